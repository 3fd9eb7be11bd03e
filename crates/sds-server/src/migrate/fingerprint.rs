//! What a downloaded XML DataSet holds, reduced to an entity count and a
//! digest, so that a re-run can tell a data source it already moved.

use sds_formats::xml_dataset::DataSetReader;
use sds_formats::RecordReader;
use sha2::{Digest, Sha256};

/// The entity count and a SHA-256 over the schema and every entity's cells,
/// independent of the order the entities come in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub entities: u64,
    pub digest: [u8; 32],
}

/// Reads a whole DataSet document. Errors: a document that is not a
/// DataSet, or a row the reader refuses (the message names its line).
pub fn fingerprint(document: &bytes::Bytes) -> Result<Fingerprint, String> {
    let input: Box<dyn std::io::BufRead + Send> = Box::new(std::io::Cursor::new(document.clone()));
    let mut reader = DataSetReader::new(input).map_err(|error| format!("the download is not a DataSet: {error}"))?;
    let schema = format!("{:?}", reader.schema());
    let mut rows: Vec<[u8; 32]> = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = record.map_err(|error| format!("the download is not a DataSet: {error}"))?;
        if let Some(problem) = record.problem {
            return Err(format!("the download has a bad row at line {}: {problem}", record.line));
        }
        let mut row = Sha256::new();
        for cell in &record.cells {
            match cell {
                // Length-prefixed, so that cell boundaries are part of the hash.
                Some(text) => {
                    row.update((text.len() as u64 + 1).to_le_bytes());
                    row.update(text.as_bytes());
                }
                None => row.update(0u64.to_le_bytes()),
            }
        }
        rows.push(row.finalize().into());
    }
    rows.sort_unstable();
    let mut all = Sha256::new();
    all.update(schema.as_bytes());
    for row in &rows {
        all.update(row);
    }
    Ok(Fingerprint { entities: rows.len() as u64, digest: all.finalize().into() })
}
