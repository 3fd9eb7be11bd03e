//! From stored jobs to their wire view: links, description and counts.

use sds_core::{Job, JobParams, JobStatus};

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

pub fn job_view(root: &str, job: &Job, progress: Option<ProgressSnapshot>) -> JobView {
    let mut counts = [job.total_entity_count, job.processed_entity_count, job.failed_entity_count];
    if let (JobStatus::Pending, Some(progress)) = (job.status, progress) {
        counts = [progress.processed, progress.processed, progress.failed];
    }
    let mut links = Vec::new();
    let mut description = None;
    match &job.params {
        JobParams::Load(params) => {
            let self_url = load_status_url(root, job);
            if job.status == JobStatus::Completed {
                if let Some(access_id) = &job.result_access_id {
                    links.push(LinkView {
                        role: "dataSource",
                        name: Some("service"),
                        url: data_source_url(root, access_id.as_str(), &job.data_source_name),
                    });
                }
            }
            if job.status == JobStatus::Aborted || job.failed_entity_count > 0 {
                links.push(LinkView { role: "output", name: Some("failed"), url: format!("{self_url}/output/failed") });
            }
            links.insert(0, LinkView { role: "self", name: None, url: self_url });
            description = Some(params.description.clone().unwrap_or_else(|| job.kind.as_str().to_owned()));
        }
        JobParams::Download(_) => {
            let self_url = download_status_url(root, &job.data_source_name);
            match job.status {
                JobStatus::Completed => links.push(LinkView {
                    role: "output",
                    name: Some("succeeded"),
                    url: format!("{self_url}/output/succeeded"),
                }),
                JobStatus::Aborted => links.push(LinkView {
                    role: "output",
                    name: Some("failed"),
                    url: format!("{self_url}/output/failed"),
                }),
                JobStatus::Pending => {}
            }
            links.insert(0, LinkView { role: "self", name: None, url: self_url });
            // SDS reports only the total for downloads.
            counts = [job.total_entity_count, 0, 0];
        }
    }
    JobView {
        job_type: JobType::DataflowJob,
        name: Some(job.data_source_name.clone()),
        id: job.id.to_string(),
        links,
        description,
        status: job.status.as_str().to_owned(),
        created: job.created,
        completed: job.completed,
        counts: Some(counts),
        error_message: job.error_message.clone(),
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
