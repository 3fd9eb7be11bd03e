//! `$metadata`: the OData service metadata document (EDMX/CSDL) describing
//! each data source's entity type (SPEC §3.4). XML only.

use std::fmt::Write;

use sds_core::{EdmType, Schema};

use super::xml::escape;

/// One data source (or one version of it) to describe.
pub struct Described<'a> {
    pub name: &'a str,
    pub schema: &'a Schema,
    pub is_public: bool,
    pub job_id: &'a str,
}

pub fn edmx(sources: &[Described<'_>]) -> String {
    let mut out = String::with_capacity(1024 + 2048 * sources.len());
    out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    out.push_str(r#"<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" Version="1.0"><edmx:DataServices DataServiceVersion="1.0">"#);
    for source in sources {
        let name = escape(source.name);
        let entity_type = escape(&source.schema.entity_type_name);
        let _ = write!(
            out,
            r#"<Schema Namespace="{name}DataSource" xmlns="http://schemas.microsoft.com/ado/2008/09/edm"><EntityType Name="{entity_type}"><Key><PropertyRef Name="{}"/></Key>"#,
            escape(&source.schema.key().name)
        );
        for (index, property) in source.schema.properties.iter().enumerate() {
            let nullable = if index == source.schema.key_index { "false" } else { "true" };
            let _ = write!(
                out,
                r#"<Property Name="{}" Type="{}" Nullable="{nullable}""#,
                escape(&property.name),
                property.edm_type.edm_name()
            );
            if property.edm_type == EdmType::String {
                out.push_str(r#" MaxLength="2560" Unicode="true" FixedLength="false""#);
            }
            out.push_str("/>");
        }
        let _ = write!(
            out,
            r#"</EntityType></Schema><Schema Namespace="{name}" xmlns="http://schemas.microsoft.com/ado/2008/09/edm"><EntityContainer Name="{name}Context" m:IsDefaultEntityContainer="true" IsPublic="{}" JobID="{}"><EntitySet Name="{entity_type}" EntityType="{name}DataSource.{entity_type}"/></EntityContainer></Schema>"#,
            source.is_public,
            escape(source.job_id)
        );
    }
    out.push_str("</edmx:DataServices></edmx:Edmx>");
    out
}
