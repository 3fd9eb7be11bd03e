//! Job resources (SPEC §3.2): `DataflowJob` and `DataServiceJob`.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::envelope::REST_NAMESPACE;
use super::xml::{element, escape};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobType {
    DataflowJob,
    DataServiceJob,
}

impl JobType {
    fn element_name(self) -> &'static str {
        match self {
            JobType::DataflowJob => "DataflowJob",
            JobType::DataServiceJob => "DataServiceJob",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkView {
    pub role: &'static str,
    pub name: Option<&'static str>,
    /// Absolute, without a query string: clients append `?output=json&key=…`.
    pub url: String,
}

/// A job as the wire shows it. The JSON and XML types may differ: SDS's
/// `$getstatus` is a `DataServiceJob` in XML, and the toolkit reads its
/// JSON only as a `DataflowJob`.
#[derive(Clone, Debug, PartialEq)]
pub struct JobView {
    pub xml_type: JobType,
    pub json_type: JobType,
    pub name: Option<String>,
    pub id: String,
    pub links: Vec<LinkView>,
    pub description: Option<String>,
    pub status: String,
    pub created: DateTime<Utc>,
    pub completed: Option<DateTime<Utc>>,
    /// Total, processed and failed entity counts, shown for `DataflowJob`s.
    pub counts: [u64; 3],
    pub error_message: Option<String>,
}

/// `Fri, 12 Nov 2010 20:03:56 GMT`, as the JSON envelopes write dates.
pub fn rfc1123(date: DateTime<Utc>) -> String {
    date.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `xs:dateTime` in UTC with the 7 fraction digits of .NET.
pub fn xs_datetime(date: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", date.format("%Y-%m-%dT%H:%M:%S"), date.timestamp_subsec_nanos() / 100)
}

/// JSON with `__type` first: the toolkit's DataContractJsonSerializer
/// rejects the object otherwise. A map serializer keeps the order written.
impl Serialize for JobView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("__type", &format!("{}:{REST_NAMESPACE}", self.json_type.element_name()))?;
        if let Some(name) = &self.name {
            map.serialize_entry("name", name)?;
        }
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("links", &self.links.iter().map(JsonLink).collect::<Vec<_>>())?;
        if let Some(description) = &self.description {
            map.serialize_entry("description", description)?;
        }
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("createdDate", &rfc1123(self.created))?;
        if let Some(completed) = self.completed {
            map.serialize_entry("completedDate", &rfc1123(completed))?;
        }
        if self.json_type == JobType::DataflowJob {
            let [total, processed, failed] = self.counts;
            map.serialize_entry("totalEntityCount", &total)?;
            map.serialize_entry("processedEntityCount", &processed)?;
            map.serialize_entry("failedEntityCount", &failed)?;
        }
        if let Some(message) = &self.error_message {
            map.serialize_entry("errorMessage", message)?;
        }
        map.end()
    }
}

struct JsonLink<'a>(&'a LinkView);

impl Serialize for JsonLink<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", self.0.role)?;
        if let Some(name) = self.0.name {
            map.serialize_entry("name", name)?;
        }
        map.serialize_entry("url", &self.0.url)?;
        map.end()
    }
}

impl JobView {
    /// The XML element, children in the fixed order of SPEC §3.2.
    pub fn write_xml(&self, out: &mut String) {
        let element_name = self.xml_type.element_name();
        let _ = write!(out, "<{element_name}>");
        if let Some(name) = &self.name {
            element(out, "Name", name);
        }
        element(out, "Id", &self.id);
        for link in &self.links {
            let _ = write!(out, "<Link role=\"{}\"", link.role);
            if let Some(name) = link.name {
                let _ = write!(out, " name=\"{name}\"");
            }
            let _ = write!(out, ">{}</Link>", escape(&link.url));
        }
        if let Some(description) = &self.description {
            element(out, "Description", description);
        }
        element(out, "Status", &self.status);
        element(out, "CreatedDate", &xs_datetime(self.created));
        match self.completed {
            Some(completed) => element(out, "CompletedDate", &xs_datetime(completed)),
            None => out.push_str(r#"<CompletedDate xsi:nil="true"/>"#),
        }
        if self.xml_type == JobType::DataflowJob {
            let [total, processed, failed] = self.counts;
            element(out, "TotalEntityCount", &total.to_string());
            element(out, "ProcessedEntityCount", &processed.to_string());
            element(out, "FailedEntityCount", &failed.to_string());
        }
        if let Some(message) = &self.error_message {
            element(out, "ErrorMessage", message);
        }
        let _ = write!(out, "</{element_name}>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> JobView {
        JobView {
            xml_type: JobType::DataflowJob,
            json_type: JobType::DataflowJob,
            name: Some("Shops".into()),
            id: "0123456789abcdef0123456789abcdef".into(),
            links: vec![LinkView { role: "self", name: None, url: "http://h/REST/v1/x".into() }],
            description: Some("DataSourceComplete".into()),
            status: "Pending".into(),
            created: Utc.with_ymd_and_hms(2010, 11, 12, 20, 3, 56).unwrap(),
            completed: None,
            counts: [0, 0, 0],
            error_message: None,
        }
    }

    #[test]
    fn json_puts_type_first_and_omits_pending_completion() {
        let text = serde_json::to_string(&sample()).unwrap();
        assert!(text.starts_with(r#"{"__type":"DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1""#));
        assert!(text.contains(r#""createdDate":"Fri, 12 Nov 2010 20:03:56 GMT""#));
        assert!(!text.contains("completedDate"));
    }

    #[test]
    fn xml_marks_pending_completion_nil() {
        let mut out = String::new();
        sample().write_xml(&mut out);
        assert!(out.contains(r#"<CompletedDate xsi:nil="true"/>"#));
        assert!(out.contains("<CreatedDate>2010-11-12T20:03:56.0000000Z</CreatedDate>"));
    }
}
