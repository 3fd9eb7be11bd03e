//! Data source information (SPEC §3.4): the AtomPub service document (the
//! default) and its JSON form, for the account list, one data source (with
//! `showAllVersions`) and the public list.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::job::rfc1123;
use super::xml::{element, escape};

/// One `app:workspace`: a data source, or one version of it.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub name: String,
    pub entity_type: String,
    /// `{root}/data/{accessId}/{name}/{entityType}`: the query URL.
    pub collection_url: String,
    pub is_public: bool,
    pub updated: DateTime<Utc>,
    pub uploaded: Option<DateTime<Utc>>,
    pub description: Option<String>,
    pub disclaimer: Option<String>,
    /// With `showAllVersions`: the job that made the version, and its flags.
    pub version: Option<VersionFlags>,
}

#[derive(Clone, Debug)]
pub struct VersionFlags {
    pub job_id: String,
    pub is_staging: bool,
    pub is_active: bool,
}

/// Which document: they differ only in their JSON shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    Account,
    Single,
    Public,
}

fn iso(date: DateTime<Utc>) -> String {
    date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn flag(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// `application/atomsvc+xml`. `app:href` is namespace-qualified: the
/// toolkit reads it only that way.
pub fn atom(copyright: &str, workspaces: &[Workspace]) -> String {
    let mut out = String::with_capacity(512 + 512 * workspaces.len());
    out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    out.push_str(r#"<app:service xmlns:app="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:bsi="http://schemas.microsoft.com/bing/spatial/2010/11/odata">"#);
    element(&mut out, "bsi:copyright", copyright);
    for workspace in workspaces {
        out.push_str("<app:workspace");
        if let Some(version) = &workspace.version {
            let _ = write!(
                out,
                r#" bsi:isStagingDataSource="{}" bsi:isActive="{}""#,
                flag(version.is_staging),
                flag(version.is_active)
            );
        }
        let _ = write!(out, r#" bsi:isPublic="{}""#, flag(workspace.is_public));
        if let Some(uploaded) = workspace.uploaded {
            let _ = write!(out, r#" bsi:uploaded="{}""#, iso(uploaded));
        }
        let _ = write!(out, r#" bsi:updated="{}">"#, iso(workspace.updated));
        element(&mut out, "atom:title", &workspace.name);
        if let Some(version) = &workspace.version {
            element(&mut out, "atom:jobId", &version.job_id);
        }
        if let Some(disclaimer) = &workspace.disclaimer {
            element(&mut out, "atom:disclaimer", disclaimer);
        }
        if let Some(description) = &workspace.description {
            element(&mut out, "atom:description", description);
        }
        let _ = write!(out, r#"<app:collection app:href="{}">"#, escape(&workspace.collection_url));
        element(&mut out, "atom:title", &workspace.entity_type);
        out.push_str("</app:collection></app:workspace>");
    }
    out.push_str("</app:service>");
    out
}

/// The OData JSON forms. `IsPublic` is a string in the account and single
/// forms but a boolean in the public list, as SDS wrote them.
pub fn json(copyright: &str, listing: Listing, workspaces: &[Workspace]) -> String {
    let describe = |workspace: &Workspace| {
        let mut object = Map::new();
        object.insert("Name".into(), json!(workspace.name));
        if listing == Listing::Public {
            if let Some(disclaimer) = &workspace.disclaimer {
                object.insert("Disclaimer".into(), json!(disclaimer));
            }
            object.insert("IsPublic".into(), json!(workspace.is_public));
            if let Some(uploaded) = workspace.uploaded {
                object.insert("Uploaded".into(), json!(rfc1123(uploaded)));
            }
        } else {
            object.insert("IsPublic".into(), json!(flag(workspace.is_public)));
        }
        object.insert("Updated".into(), json!(rfc1123(workspace.updated)));
        object.insert("EntitySets".into(), json!([workspace.entity_type]));
        object
    };
    let mut body = Map::new();
    body.insert("Copyright".into(), json!(copyright));
    match (listing, workspaces.first()) {
        (Listing::Single, Some(workspace)) => body.extend(describe(workspace)),
        _ => {
            let sources: Vec<Value> = workspaces.iter().map(|workspace| Value::Object(describe(workspace))).collect();
            body.insert("DataSources".into(), Value::Array(sources));
        }
    }
    json!({ "d": body }).to_string()
}
