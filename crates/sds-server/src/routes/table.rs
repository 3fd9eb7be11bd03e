//! The REST routes as data: each operation's method and path template, in
//! the spelling of the OpenAPI document (`/openapi.json`), which a test
//! compares with this list both ways. The template is also what logs and
//! metrics name a request by: never the concrete path, whose segments hold
//! names and ids, nor the query string, which holds keys.

use axum::http::Method;

macro_rules! routes {
    ($($variant:ident: $method:ident $template:literal),* $(,)?) => {
        /// One REST operation (a method on a path template).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Route {
            $($variant),*
        }

        impl Route {
            /// Every operation, in dispatch order.
            pub const ALL: &'static [Route] = &[$(Route::$variant),*];

            /// The path template, e.g. `/REST/v1/data/{accessId}/{dataSourceName}`.
            pub fn template(self) -> &'static str {
                match self {
                    $(Route::$variant => $template),*
                }
            }

            /// The method the operation answers (`GET` operations answer `HEAD` too).
            pub fn method(self) -> Method {
                match self {
                    $(Route::$variant => Method::$method),*
                }
            }
        }
    };
}

routes! {
    LoadCreate: POST "/REST/v1/Dataflows/LoadDataSource",
    LoadStatus: GET "/REST/v1/Dataflows/LoadDataSource/{jobId}",
    LoadFailedOutput: GET "/REST/v1/Dataflows/LoadDataSource/{jobId}/output/failed",
    DownloadCreate: GET "/REST/v1/Dataflows/DataSourceDownload/{accessId}/{dataSourceName}",
    DownloadStatus: GET "/REST/v1/Dataflows/DataSourceDownload/{jobId}",
    DownloadOutput: GET "/REST/v1/Dataflows/DataSourceDownload/{jobId}/output/{outcome}",
    Rollback: GET "/REST/v1/Dataflows/DataSourceRollback/{accessId}/{jobId}",
    RollbackStatus: GET "/REST/v1/Dataflows/DataSourceRollback/{jobId}",
    ListJobs: GET "/REST/v1/Dataflows/ListJobs",
    Account: GET "/REST/v1/data",
    AccountMetadata: GET "/REST/v1/data/$metadata",
    PublicList: GET "/REST/v1/data/$getpublicdatasourcelist",
    JobStatus: GET "/REST/v1/data/jobs/{jobId}/$getstatus",
    Delete: DELETE "/REST/v1/data/{accessId}/{dataSourceName}",
    Single: GET "/REST/v1/data/{accessId}/{dataSourceName}",
    Metadata: GET "/REST/v1/data/{accessId}/{dataSourceName}/$metadata",
    Publish: GET "/REST/v1/data/{accessId}/{dataSourceName}/$commit",
    SetPublic: GET "/REST/v1/data/{accessId}/{dataSourceName}/$updatedatasource",
    Query: GET "/REST/v1/data/{accessId}/{dataSourceName}/{entityTypeName}",
}

impl Route {
    /// The `Allow` header of a 405 on this operation's path: the methods
    /// of every operation on the same template (`GET` with `HEAD`).
    pub fn allow(self) -> String {
        let mut methods = Vec::new();
        for route in Route::ALL.iter().filter(|route| route.template() == self.template()) {
            methods.push(route.method().to_string());
            if route.method() == Method::GET {
                methods.push("HEAD".to_owned());
            }
        }
        methods.join(", ")
    }
}

/// Where a request's path and method lead.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Route(Route),
    /// The path exists but not for this method: the operations it has.
    WrongMethod(Route),
    Nothing,
}

impl Route {
    /// The operation for lowercased path segments after `/REST/v1`. Paths
    /// match case-insensitively, with the spellings clients use besides the
    /// documented ones (`data/DataSourceDownload`, `Download`, `ouput`).
    pub fn find(method: &Method, rest: &[&str]) -> Found {
        let is_get = *method == Method::GET || *method == Method::HEAD;
        let get = |route| if is_get { Found::Route(route) } else { Found::WrongMethod(route) };
        match rest {
            ["dataflows", "loaddatasource"] => {
                if *method == Method::POST {
                    Found::Route(Route::LoadCreate)
                } else {
                    Found::WrongMethod(Route::LoadCreate)
                }
            }
            ["dataflows", "loaddatasource", _] => get(Route::LoadStatus),
            ["dataflows", "loaddatasource", _, "output", "failed"] => get(Route::LoadFailedOutput),
            ["dataflows" | "data", "datasourcedownload", _, _] => get(Route::DownloadCreate),
            ["dataflows", "datasourcedownload" | "download", _] => get(Route::DownloadStatus),
            ["dataflows", "datasourcedownload" | "download", _, "output" | "ouput", "succeeded" | "failed"] => {
                get(Route::DownloadOutput)
            }
            ["dataflows", "datasourcerollback", _, _] => get(Route::Rollback),
            ["dataflows", "datasourcerollback", _] => get(Route::RollbackStatus),
            ["dataflows", "listjobs"] => get(Route::ListJobs),
            ["data"] => get(Route::Account),
            ["data", "$metadata"] => get(Route::AccountMetadata),
            ["data", "$getpublicdatasourcelist"] => get(Route::PublicList),
            ["data", "jobs", _, "$getstatus"] => get(Route::JobStatus),
            ["data", _, _] if *method == Method::DELETE => Found::Route(Route::Delete),
            ["data", _, _] => get(Route::Single),
            ["data", _, _, "$metadata"] => get(Route::Metadata),
            ["data", _, _, "$commit"] => get(Route::Publish),
            ["data", _, _, "$updatedatasource"] => get(Route::SetPublic),
            ["data", access_id, _, entity] if !entity.starts_with('$') && *access_id != "jobs" => get(Route::Query),
            _ => Found::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_every_method_of_a_template() {
        assert_eq!(Route::Single.allow(), "DELETE, GET, HEAD");
        assert_eq!(Route::LoadCreate.allow(), "POST");
    }

    /// The template, with sample values for its parameters, leads back to
    /// its own operation: the table and the matcher agree.
    #[test]
    fn every_template_finds_its_own_route() {
        for &route in Route::ALL {
            let path = route
                .template()
                .replace("{jobId}", "abc123")
                .replace("{accessId}", "0123abcd")
                .replace("{dataSourceName}", "Shops")
                .replace("{entityTypeName}", "Shop")
                .replace("{outcome}", "succeeded")
                .to_ascii_lowercase();
            let segments: Vec<&str> = path.split('/').filter(|segment| !segment.is_empty()).skip(2).collect();
            assert_eq!(Route::find(&route.method(), &segments), Found::Route(route), "{path}");
        }
    }
}
