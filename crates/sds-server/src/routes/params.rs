//! Query parameters as SDS reads them: names case-insensitive, empty pairs
//! (`?&a=b`) ignored, unknown names ignored, `+` and `%xx` decoded once.

use crate::error::ApiError;
use crate::wire::OutputFormat;

#[derive(Clone, Debug, Default)]
pub struct Params {
    /// (lowercased name, value), in request order.
    pairs: Vec<(String, String)>,
    /// Names of parameters without a value (`?bbox(…)&key=…`), as sent:
    /// a bare token may carry case-sensitive text such as WKT.
    bare: Vec<String>,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let mut bare = Vec::new();
        let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, value)| {
                if value.is_empty() {
                    bare.push(name.clone().into_owned());
                }
                (name.to_ascii_lowercase(), value.into_owned())
            })
            .collect();
        Params { pairs, bare }
    }

    /// The names of parameters sent without a value, as sent, in request order.
    pub fn bare_names(&self) -> impl Iterator<Item = &str> {
        self.bare.iter().map(String::as_str)
    }

    /// Every (lowercased name, value) pair, in request order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The first value of a parameter; `name` must be lowercase.
    pub fn get(&self, name: &str) -> Option<&str> {
        debug_assert_eq!(name, name.to_ascii_lowercase());
        self.pairs.iter().find(|(candidate, _)| candidate == name).map(|(_, value)| value.as_str())
    }

    /// The first of several aliases that is present.
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| self.get(name))
    }

    pub fn require(&self, name: &str, display_name: &str) -> Result<&str, ApiError> {
        self.get(name).filter(|value| !value.is_empty()).ok_or_else(|| ApiError::missing_parameter(display_name))
    }

    /// `output` (alias `o`) of management calls; JSON by default.
    pub fn output_format(&self) -> Result<OutputFormat, ApiError> {
        match self.get_any(&["output", "o"]).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("json") => Ok(OutputFormat::Json),
            Some("xml") => Ok(OutputFormat::Xml),
            Some(other) => {
                Err(ApiError::bad_request(format!("the 'output' parameter '{other}' is invalid: use json or xml")))
            }
        }
    }

    /// A boolean flag: `0`/`1`/`true`/`false` in any case.
    pub fn flag(&self, name: &str, display_name: &str) -> Result<Option<bool>, ApiError> {
        let Some(value) = self.get(name).filter(|value| !value.is_empty()) else {
            return Ok(None);
        };
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Some(true)),
            "0" | "false" => Ok(Some(false)),
            _ => Err(ApiError::bad_request(format!("the '{display_name}' parameter '{value}' is invalid: use 0 or 1"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_kept() {
        let params = Params::parse(Some("&DataSourceName=Shops&Key=AbC-_x&&o=XML&x+y=a+b%2Bc"));
        assert_eq!(params.get("datasourcename"), Some("Shops"));
        assert_eq!(params.get("key"), Some("AbC-_x"));
        assert_eq!(params.output_format().unwrap(), OutputFormat::Xml);
        assert_eq!(params.get("x y"), Some("a b+c"));
        assert_eq!(params.bare_names().count(), 0);
    }

    #[test]
    fn bare_names_keep_their_case() {
        let params = Params::parse(Some("intersects('POLYGON((0%200,1%200,1%201,0%200))')&key=k&$filter"));
        let bare: Vec<&str> = params.bare_names().collect();
        assert_eq!(bare, ["intersects('POLYGON((0 0,1 0,1 1,0 0))')", "$filter"]);
    }

    #[test]
    fn output_defaults_to_json_and_rejects_unknown() {
        assert_eq!(Params::parse(None).output_format().unwrap(), OutputFormat::Json);
        assert!(Params::parse(Some("output=csv")).output_format().is_err());
    }

    #[test]
    fn flags_accept_digits_and_words() {
        let params = Params::parse(Some("setPublic=TRUE&b=0&c=2"));
        assert_eq!(params.flag("setpublic", "setPublic").unwrap(), Some(true));
        assert_eq!(params.flag("b", "b").unwrap(), Some(false));
        assert!(params.flag("c", "c").is_err());
        assert_eq!(params.flag("absent", "absent").unwrap(), None);
    }
}
