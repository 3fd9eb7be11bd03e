//! `FilePayloads`: spooled inputs, download outputs and kept outputs as
//! files, in the layout existing data dirs have.

use std::io::Read;
use std::path::Path;

use sds_core::JobId;
use sds_store::{FilePayloads, PayloadStore};

fn file(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read(payloads: &dyn PayloadStore, job: &JobId, extension: &str) -> Option<(u64, String)> {
    let (length, reader) = payloads.open_output(job, extension).unwrap()?;
    let mut text = String::new();
    reader.into_read().read_to_string(&mut text).unwrap();
    Some((length, text))
}

#[test]
fn inputs_are_moved_into_the_spool_under_their_job() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, downloads) = (dir.path().join("spool"), dir.path().join("downloads"));
    let payloads = FilePayloads::open(&spool, &downloads).unwrap();
    let job = JobId::generate();
    let scratch = tempfile::tempdir().unwrap();
    let part = file(scratch.path(), "upload.part", "a,b\n");
    payloads.put_input(&job, &part).unwrap();
    assert!(!part.exists(), "the local file is consumed");
    assert_eq!(std::fs::read_to_string(spool.join(format!("{job}.input"))).unwrap(), "a,b\n", "the old layout");
    let local = payloads.input_file(&job, scratch.path()).unwrap().unwrap();
    assert_eq!(std::fs::read_to_string(local.path()).unwrap(), "a,b\n");
    drop(local);
    let inputs: Vec<JobId> = payloads.inputs().unwrap().into_iter().map(|(job, _)| job).collect();
    assert_eq!(inputs, vec![job.clone()], "the stored file stays after reading");
    payloads.discard_input(&job).unwrap();
    payloads.discard_input(&job).unwrap();
    assert!(payloads.input_file(&job, scratch.path()).unwrap().is_none());
    assert!(payloads.inputs().unwrap().is_empty());
}

#[test]
fn outputs_kept_outputs_and_pointers_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let downloads = dir.path().join("downloads");
    let payloads = FilePayloads::open(&dir.path().join("spool"), &downloads).unwrap();
    let (first, second) = (JobId::generate(), JobId::generate());
    let entry = "r1-1-2-3-abc.xml";
    assert!(!payloads.point_to_kept(&second, "xml", entry).unwrap(), "no entry yet");

    let part = file(&downloads, &format!("{first}.part"), "<xml/>");
    payloads.keep_output(entry, &part).unwrap();
    payloads.put_output(&first, "xml", &part).unwrap();
    assert_eq!(read(&payloads, &first, "xml"), Some((6, "<xml/>".into())));
    assert!(payloads.point_to_kept(&second, "xml", entry).unwrap());
    assert_eq!(read(&payloads, &second, "xml"), Some((6, "<xml/>".into())), "through the pointer");
    assert!(downloads.join(format!("{second}.xml.kept")).exists(), "the old pointer layout");
    assert_eq!(payloads.kept_entries().unwrap(), vec![entry.to_owned()]);

    let mut outputs: Vec<(JobId, String)> =
        payloads.outputs().unwrap().into_iter().map(|output| (output.job, output.extension)).collect();
    outputs.sort();
    let mut expected = vec![(first.clone(), "xml".to_owned()), (second.clone(), "xml".to_owned())];
    expected.sort();
    assert_eq!(outputs, expected);

    payloads.remove_kept(entry).unwrap();
    assert_eq!(read(&payloads, &second, "xml"), None, "a pointer to a removed entry leads nowhere");
    assert_eq!(read(&payloads, &first, "xml"), Some((6, "<xml/>".into())), "the job's own output stays");
    payloads.remove_output(&first, "xml").unwrap();
    payloads.remove_output(&second, "xml").unwrap();
    assert!(payloads.outputs().unwrap().is_empty());
}

#[test]
fn names_that_are_not_plain_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let payloads = FilePayloads::open(&dir.path().join("spool"), &dir.path().join("downloads")).unwrap();
    let job = JobId::generate();
    let local = file(dir.path(), "x", "x");
    for name in ["../escape", ".hidden", "a/b", ""] {
        let error = payloads.keep_output(name, &local).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{name}");
        assert!(payloads.put_output(&job, name, &local).is_err(), "{name}");
    }
    // A pointer file naming something outside the kept folder leads nowhere.
    std::fs::write(dir.path().join("downloads").join(format!("{job}.xml.kept")), "../../x").unwrap();
    assert!(payloads.open_output(&job, "xml").unwrap().is_none());
}
