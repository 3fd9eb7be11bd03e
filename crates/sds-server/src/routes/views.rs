//! From stored jobs to their wire view: links, description and counts.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use sds_core::{Job, JobParams, JobStatus};

use super::RequestContext;
use crate::jobs::ProgressSnapshot;
use crate::wire::{JobType, JobView, LinkView};

pub fn load_status_url(root: &str, job: &Job) -> String {
    format!("{root}/dataflows/LoadDataSource/{}", job.id)
}

/// The download status URL has no job id (SDS's form): it answers for the
/// newest download job of that data source name in the caller's account.
pub fn download_status_url(root: &str, data_source_name: &str) -> String {
    format!("{root}/dataflows/DataSourceDownload/{}", encode_segment(data_source_name))
}

fn data_source_url(root: &str, access_id: &str, name: &str) -> String {
    format!("{root}/data/{access_id}/{}", encode_segment(name))
}

/// Data source names may hold `{ } ^ \``, which are not valid in a URL path.
fn encode_segment(segment: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'~')
        .remove(b'!')
        .remove(b'$')
        .remove(b'=');
    percent_encoding::utf8_percent_encode(segment, RESERVED).to_string()
}

/// Where a job is shown: SDS words a job differently when it is created,
/// when its status is polled and in the job list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Created,
    Status,
    List,
}

pub fn lifecycle_status_url(root: &str, job: &Job) -> String {
    match job.params {
        JobParams::Rollback { .. } => format!("{root}/dataflows/DataSourceRollback/{}", job.id),
        _ => format!("{root}/data/jobs/{}/$getstatus", job.id),
    }
}

/// The status URL of any job: what its `self` link and `Location` say.
pub fn status_url(root: &str, job: &Job) -> String {
    match &job.params {
        JobParams::Load(_) => load_status_url(root, job),
        JobParams::Download(_) => download_status_url(root, &job.data_source_name),
        _ => lifecycle_status_url(root, job),
    }
}

/// `getstatus_type` is the JSON type of `$getstatus` answers: the toolkit
/// needs `DataflowJob` where the docs show `DataServiceJob` (configurable).
pub fn job_view(
    root: &str,
    job: &Job,
    progress: Option<ProgressSnapshot>,
    shown: Shown,
    getstatus_type: JobType,
) -> JobView {
    let mut counts = [job.total_entity_count, job.processed_entity_count, job.failed_entity_count];
    if let (JobStatus::Pending, Some(progress)) = (job.status, progress) {
        counts = [progress.processed, progress.processed, progress.failed];
    }
    let self_url = status_url(root, job);
    let mut links = vec![LinkView { role: "self", name: None, url: self_url.clone() }];
    let data_source_link = |links: &mut Vec<LinkView>| {
        if let (JobStatus::Completed, Some(access_id)) = (job.status, &job.result_access_id) {
            links.push(LinkView {
                role: "dataSource",
                name: Some("service"),
                url: data_source_url(root, access_id.as_str(), &job.data_source_name),
            });
        }
    };
    let kind_name = Some(job.kind.as_str().to_owned());
    let mut status = job.status.as_str();
    let (mut xml_type, mut json_type) = (JobType::DataflowJob, JobType::DataflowJob);
    let description = match &job.params {
        JobParams::Load(params) => {
            data_source_link(&mut links);
            if job.status == JobStatus::Aborted || job.failed_entity_count > 0 {
                links.push(LinkView { role: "output", name: Some("failed"), url: format!("{self_url}/output/failed") });
            }
            match shown {
                Shown::List => kind_name,
                _ => Some(params.description.clone().unwrap_or_else(|| job.kind.as_str().to_owned())),
            }
        }
        JobParams::Download(_) => {
            let output = match job.status {
                JobStatus::Completed => Some("succeeded"),
                JobStatus::Aborted => Some("failed"),
                JobStatus::Pending => None,
            };
            if let Some(name) = output {
                links.push(LinkView { role: "output", name: Some(name), url: format!("{self_url}/output/{name}") });
            }
            // SDS reports only the total for downloads.
            counts = [job.total_entity_count, 0, 0];
            None
        }
        JobParams::Rollback { .. } => {
            data_source_link(&mut links);
            counts = [0, 0, 0];
            kind_name
        }
        JobParams::Publish(_) | JobParams::Access { .. } | JobParams::Delete { .. } => {
            // A deleted data source has no URL left to link to.
            if !matches!(job.params, JobParams::Delete { .. }) {
                data_source_link(&mut links);
            }
            counts = [0, 0, 0];
            xml_type = JobType::DataServiceJob;
            json_type = if shown == Shown::Status { getstatus_type } else { JobType::DataServiceJob };
            if shown == Shown::Created {
                status = match job.params {
                    JobParams::Publish(_) => "Accepted",
                    _ => "Created",
                };
            }
            match (&job.params, shown) {
                (JobParams::Access { public, .. }, Shown::Created | Shown::Status) => Some(format!(
                    "Data source \"{}\" set {}",
                    job.data_source_name,
                    if *public { "public" } else { "private" }
                )),
                _ => kind_name,
            }
        }
    };
    JobView {
        xml_type,
        json_type,
        name: Some(job.data_source_name.clone()),
        id: job.id.to_string(),
        links,
        description,
        status: status.to_owned(),
        created: job.created,
        completed: job.completed,
        counts,
        error_message: job.error_message.clone(),
    }
}

impl RequestContext {
    pub fn job_view(&self, job: &Job, progress: Option<ProgressSnapshot>, shown: Shown) -> JobView {
        job_view(&self.root, job, progress, shown, self.getstatus_type)
    }

    /// A job's status: 200, with an aborted job's message in `errorDetails`.
    pub fn status_response(&self, job: &Job, progress: Option<ProgressSnapshot>) -> Response {
        let view = self.job_view(job, progress, Shown::Status);
        self.envelope.jobs(StatusCode::OK, &[view], error_details(job).as_deref())
    }

    /// A new job, with its status URL in `Location` (real clients poll
    /// `Location + "?output=json&key=…"`).
    pub fn created_response(&self, status: StatusCode, job: &Job) -> Response {
        let mut response = self.envelope.jobs(status, &[self.job_view(job, None, Shown::Created)], None);
        if let Ok(location) = HeaderValue::from_str(&status_url(&self.root, job)) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

/// An aborted job's status answers 200 with its message in `errorDetails`.
pub fn error_details(job: &Job) -> Option<Vec<String>> {
    match (job.status, &job.error_message) {
        (JobStatus::Aborted, Some(message)) => Some(vec![message.clone()]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::encode_segment;

    #[test]
    fn names_are_escaped_only_where_urls_need_it() {
        assert_eq!(encode_segment("Shops_1-a~"), "Shops_1-a~");
        assert_eq!(encode_segment("a{b}^c`"), "a%7Bb%7D%5Ec%60");
    }
}
