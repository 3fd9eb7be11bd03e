// Shared by the targets: read every record and type it as a load would.

use sds_core::EntityBuilder;
use sds_formats::{FormatError, RecordReader};

pub fn drain(reader: Result<Box<dyn RecordReader>, FormatError>) {
    let Ok(mut reader) = reader else { return };
    let builder = EntityBuilder::for_complete(reader.schema().clone());
    while let Some(record) = reader.next_record() {
        let Ok(record) = record else { return };
        let _ = builder.build(&record.cells);
    }
}
