//! Import sources: a plain file, a `.zip` (each member in turn), a `.gz`, or `-` for
//! stdin (any of the three), told apart by their first bytes rather than their names; and
//! the bounded line reader the tabular readers share. Reads only; knows nothing of rows.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ImportError;

/// The longest row accepted, in bytes (real rows are under 4 KiB; a longer one is damage,
/// and the bound keeps a file with no line ends from filling memory).
pub const MAX_ROW_BYTES: usize = 256 * 1024;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Counts the bytes read from the underlying file or stdin, for the progress bar.
struct Counting<'c, R> {
    inner: R,
    count: &'c AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The size of a named source, for the progress bar (`None` for stdin).
pub fn source_size(name: &str) -> Option<u64> {
    (name != "-").then(|| std::fs::metadata(name).ok().map(|m| m.len())).flatten()
}

/// Calls `visit` with each text stream of a source: the file itself, each member of a zip
/// archive (named `ARCHIVE/MEMBER`), or the decompressed gzip stream.
pub fn for_each_stream(
    name: &str,
    bytes_read: &AtomicU64,
    visit: &mut dyn FnMut(&str, &mut dyn BufRead) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let input_error =
        |error: std::io::Error| ImportError::Input { source_name: name.to_string(), reason: error.to_string() };
    if name == "-" {
        let stdin = std::io::stdin();
        let mut reader = BufReader::with_capacity(1 << 16, Counting { inner: stdin.lock(), count: bytes_read });
        let magic = fill(&mut reader).map_err(input_error)?;
        if magic.starts_with(ZIP_MAGIC) {
            return stream_zip_members(name, &mut reader, visit);
        }
        if magic.starts_with(GZIP_MAGIC) {
            let mut decoded = BufReader::with_capacity(1 << 16, flate2::bufread::MultiGzDecoder::new(reader));
            return visit(name, &mut decoded);
        }
        return visit(name, &mut reader);
    }
    let file = File::open(name).map_err(input_error)?;
    let mut reader = BufReader::with_capacity(1 << 16, Counting { inner: file, count: bytes_read });
    let magic = fill(&mut reader).map_err(input_error)?;
    if magic.starts_with(ZIP_MAGIC) {
        let mut archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(name, e))?;
        for index in 0..archive.len() {
            let member = archive.by_index(index).map_err(|e| zip_error(name, e))?;
            if member.is_dir() {
                continue;
            }
            let member_name = format!("{name}/{}", member.name());
            let mut member_reader = BufReader::with_capacity(1 << 16, member);
            visit(&member_name, &mut member_reader)?;
        }
        return Ok(());
    }
    if magic.starts_with(GZIP_MAGIC) {
        let mut decoded = BufReader::with_capacity(1 << 16, flate2::bufread::MultiGzDecoder::new(reader));
        return visit(name, &mut decoded);
    }
    visit(name, &mut reader)
}

fn stream_zip_members(
    name: &str,
    reader: &mut dyn BufRead,
    visit: &mut dyn FnMut(&str, &mut dyn BufRead) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut reader = reader;
    while let Some(member) = zip::read::read_zipfile_from_stream(&mut reader).map_err(|e| zip_error(name, e))? {
        if member.is_dir() {
            continue;
        }
        let member_name = format!("{name}/{}", member.name());
        let mut member_reader = BufReader::with_capacity(1 << 16, member);
        visit(&member_name, &mut member_reader)?;
    }
    Ok(())
}

fn zip_error(name: &str, error: zip::result::ZipError) -> ImportError {
    ImportError::Input { source_name: name.to_string(), reason: format!("not a readable zip archive: {error}") }
}

fn fill<R: BufRead>(reader: &mut R) -> std::io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    reader.fill_buf()
}

/// One physical line of a tabular file.
#[derive(Debug)]
pub struct Line {
    /// 1-based physical line number.
    pub number: usize,
    /// The line's bytes without its line end (empty when `too_long`).
    pub bytes: Vec<u8>,
    /// The file ended inside this line (no line end): a truncated file.
    pub unterminated: bool,
    /// The line was longer than `MAX_ROW_BYTES`.
    pub too_long: bool,
}

/// Splits a stream into lines, bounded in length; a UTF-8 BOM on the first line is dropped.
pub struct LineReader<'r> {
    input: &'r mut dyn BufRead,
    next_number: usize,
}

impl<'r> LineReader<'r> {
    pub fn new(input: &'r mut dyn BufRead) -> Self {
        LineReader { input, next_number: 1 }
    }

    pub fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        let number = self.next_number;
        let mut bytes = Vec::new();
        let mut too_long = false;
        let mut ended = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            let (take, newline) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if !too_long {
                if bytes.len() + take > MAX_ROW_BYTES + 2 {
                    too_long = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(&buf[..take]);
                }
            }
            self.input.consume(take);
            if newline {
                ended = true;
                break;
            }
        }
        if !ended && bytes.is_empty() && !too_long {
            return Ok(None);
        }
        self.next_number += 1;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if number == 1 && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            bytes.drain(..3);
        }
        Ok(Some(Line { number, bytes, unterminated: !ended, too_long }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8]) -> Vec<(usize, Vec<u8>, bool, bool)> {
        let mut input = text;
        let mut reader = LineReader::new(&mut input);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            out.push((line.number, line.bytes, line.unterminated, line.too_long));
        }
        out
    }

    #[test]
    fn lines_keep_their_numbers_and_a_missing_last_line_end_is_seen() {
        let got = lines(b"\xEF\xBB\xBFa\tb\r\n\nc");
        assert_eq!(
            got,
            vec![(1, b"a\tb".to_vec(), false, false), (2, vec![], false, false), (3, b"c".to_vec(), true, false)]
        );
    }

    #[test]
    fn an_overlong_line_is_flagged_without_being_kept() {
        let mut text = vec![b'x'; MAX_ROW_BYTES + 10];
        text.extend_from_slice(b"\nnext\n");
        let got = lines(&text);
        assert_eq!(got.len(), 2);
        assert!(got[0].3 && got[0].1.is_empty());
        assert_eq!(got[1].1, b"next");
    }
}
