//! The "REST v1" management envelope (SPEC §3.1) in JSON and XML.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::codes::{authentication_result_code, http_status, retry_after_seconds, status_description};
use super::job::JobView;
use super::xml::element;
use crate::error::ApiError;

pub const REST_NAMESPACE: &str = "http://schemas.microsoft.com/search/local/ws/rest/v1";

/// The `output` (alias `o`) parameter of management calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Json,
    Xml,
}

/// What every envelope carries besides its resources.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub copyright: String,
    pub brand_logo_uri: String,
    pub trace_id: String,
    pub format: OutputFormat,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonEnvelope<'a> {
    authentication_result_code: &'a str,
    brand_logo_uri: &'a str,
    copyright: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_details: Option<&'a [String]>,
    resource_sets: Vec<JsonResourceSet<'a>>,
    status_code: u16,
    status_description: &'a str,
    trace_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonResourceSet<'a> {
    estimated_total: u64,
    resources: &'a [JobView],
}

impl Envelope {
    /// A successful response holding jobs. `error_details` is only for an
    /// aborted job's status, which SDS answers with 200 and the job's error.
    pub fn jobs(&self, status: StatusCode, jobs: &[JobView], error_details: Option<&[String]>) -> Response {
        self.render(status, "ValidCredentials", Some(jobs), error_details)
    }

    /// An error response: an empty resource set and the error's details.
    pub fn error(&self, error: &ApiError) -> Response {
        let status = http_status(error.kind);
        let mut response = self.render(status, authentication_result_code(error.kind), None, Some(&error.details));
        if let Some(seconds) = retry_after_seconds(error.kind) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    fn render(
        &self,
        status: StatusCode,
        authentication: &str,
        jobs: Option<&[JobView]>,
        error_details: Option<&[String]>,
    ) -> Response {
        let (body, content_type) = match self.format {
            OutputFormat::Json => {
                (self.json(status, authentication, jobs, error_details), "application/json; charset=utf-8")
            }
            OutputFormat::Xml => {
                (self.xml(status, authentication, jobs, error_details), "application/xml; charset=utf-8")
            }
        };
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }

    fn json(
        &self,
        status: StatusCode,
        authentication: &str,
        jobs: Option<&[JobView]>,
        error_details: Option<&[String]>,
    ) -> String {
        let resource_sets = match jobs {
            Some(jobs) => vec![JsonResourceSet { estimated_total: jobs.len() as u64, resources: jobs }],
            None => Vec::new(),
        };
        let envelope = JsonEnvelope {
            authentication_result_code: authentication,
            brand_logo_uri: &self.brand_logo_uri,
            copyright: &self.copyright,
            error_details,
            resource_sets,
            status_code: status.as_u16(),
            status_description: status_description(status),
            trace_id: &self.trace_id,
        };
        serde_json::to_string(&envelope).expect("the envelope serializes")
    }

    fn xml(
        &self,
        status: StatusCode,
        authentication: &str,
        jobs: Option<&[JobView]>,
        error_details: Option<&[String]>,
    ) -> String {
        let mut out = String::with_capacity(1024);
        out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        out.push_str(&format!(
            r#"<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="{REST_NAMESPACE}">"#
        ));
        element(&mut out, "Copyright", &self.copyright);
        element(&mut out, "BrandLogoUri", &self.brand_logo_uri);
        element(&mut out, "StatusCode", &status.as_u16().to_string());
        element(&mut out, "StatusDescription", status_description(status));
        element(&mut out, "AuthenticationResultCode", authentication);
        element(&mut out, "TraceId", &self.trace_id);
        if let Some(details) = error_details {
            out.push_str("<ErrorDetails>");
            for detail in details {
                element(&mut out, "string", detail);
            }
            out.push_str("</ErrorDetails>");
        }
        match jobs {
            Some(jobs) => {
                out.push_str("<ResourceSets><ResourceSet>");
                element(&mut out, "EstimatedTotal", &jobs.len().to_string());
                out.push_str("<Resources>");
                for job in jobs {
                    job.write_xml(&mut out);
                }
                out.push_str("</Resources></ResourceSet></ResourceSets>");
            }
            None => out.push_str("<ResourceSets/>"),
        }
        out.push_str("</Response>");
        out
    }
}

/// Plain text responses (error logs of jobs).
pub fn plain_text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
