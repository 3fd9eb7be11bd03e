//! sds-query
