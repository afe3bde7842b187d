//! Columns: which cells of a row feed which contract field, from the header
//! row or the configuration, and a row's cells as the vehicle builder reads them.

use forecourt_sdk::record::RecordValues;
use forecourt_sdk::PluginError;

use crate::config::{ColumnRef, Config};
use crate::fields::{self, Field, FIELD_COUNT};
use crate::parse::document_error;

/// Which columns feed each field. Header recognition may find several
/// (say `Notes` and `Internal Notes`): the first non-empty cell among them,
/// left to right, is the value. A column named in `columns` is the only one.
pub struct ColumnMap {
    columns: Vec<Vec<usize>>,
}

impl ColumnMap {
    fn get(&self, field: Field) -> &[usize] {
        &self.columns[field.index()]
    }

    /// The first non-empty trimmed cell of `field`, with its column.
    pub fn first<'c>(&self, field: Field, cells: &[&'c str]) -> Option<(usize, &'c str)> {
        self.get(field).iter().find_map(|&i| {
            let value = cells.get(i)?.trim();
            (!value.is_empty()).then_some((i, value))
        })
    }

    /// From the header row: recognised headers, then `columns` by name or
    /// position. A missing stock-id column, or a `columns` entry not in the
    /// header, fails the whole document.
    pub fn from_header(config: &Config, header: &[&str]) -> Result<ColumnMap, PluginError> {
        let mut columns = vec![Vec::new(); FIELD_COUNT];
        for (i, cell) in header.iter().enumerate() {
            if let Some(field) = fields::recognise(cell) {
                columns[field.index()].push(i);
            }
        }
        for (field, column) in &config.columns {
            let index = match column {
                ColumnRef::Position(p) if *p < header.len() => *p,
                ColumnRef::Position(p) => {
                    return Err(document_error(format!(
                        "columns.{} is position {p} but the header row has only {} columns",
                        field.name(),
                        header.len()
                    )))
                }
                ColumnRef::Name(name) => header
                    .iter()
                    .position(|h| h.trim() == name)
                    .or_else(|| {
                        let key = fields::header_key(name);
                        header.iter().position(|h| fields::header_key(h) == key)
                    })
                    .ok_or_else(|| {
                        document_error(format!(
                            "columns.{} names the column {name:?}, which is not in the header row",
                            field.name()
                        ))
                    })?,
            };
            columns[field.index()] = vec![index];
        }
        if columns[Field::StockId.index()].is_empty() {
            let synonyms = ["StockNo", "Stock Number", "StockID", "Stock Ref", "Stock"];
            return Err(document_error(format!(
                "the header row has no stock id column (looked for {}); if the file has no header row, \
                 set has_header to false and map the columns by position, else map columns.stock-id",
                synonyms.join(", ")
            )));
        }
        Ok(ColumnMap { columns })
    }

    /// Without a header row: `columns` by position only.
    pub fn from_positions(config: &Config) -> ColumnMap {
        let mut columns = vec![Vec::new(); FIELD_COUNT];
        for (field, column) in &config.columns {
            if let ColumnRef::Position(p) = column {
                columns[field.index()] = vec![*p];
            }
        }
        ColumnMap { columns }
    }
}

/// One row's cells, as the SDK's vehicle builder reads them.
pub struct Row<'a> {
    /// The document's column map.
    pub columns: &'a ColumnMap,
    /// The row's cells.
    pub cells: &'a [&'a str],
}

impl RecordValues for Row<'_> {
    fn text(&self, field: Field) -> Option<&str> {
        self.columns
            .first(field, self.cells)
            .map(|(_, value)| value)
    }
}
