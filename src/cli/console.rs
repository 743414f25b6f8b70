//! Where a command's output goes: this process's stdout and stderr, or two buffers when
//! the server runs a command for a CLI that forwarded it (`serve`'s `/api/cli`), so both
//! modes print the same bytes.

use std::io::Write;

use super::Failure;

pub struct Console {
    out: Sink,
    err: Sink,
}

enum Sink {
    Stdout,
    Stderr,
    Buffer(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout => std::io::stdout().write(bytes),
            Sink::Stderr => std::io::stderr().write(bytes),
            Sink::Buffer(buffer) => buffer.write(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout => std::io::stdout().flush(),
            Sink::Stderr => std::io::stderr().flush(),
            Sink::Buffer(_) => Ok(()),
        }
    }
}

impl Console {
    /// The process's own stdout and stderr.
    pub fn stdio() -> Console {
        Console { out: Sink::Stdout, err: Sink::Stderr }
    }

    /// Two in-memory buffers, read back with `into_captured`.
    pub fn captured() -> Console {
        Console { out: Sink::Buffer(Vec::new()), err: Sink::Buffer(Vec::new()) }
    }

    /// Writes to stdout and flushes, turning a closed pipe into a quiet stop.
    pub fn print(&mut self, text: &str) -> Result<(), Failure> {
        self.out.write_all(text.as_bytes()).and_then(|_| self.out.flush()).map_err(Failure::from)
    }

    /// One line on stderr; like `eprintln!`, but a failing stderr is not worth a panic.
    pub fn eprint_line(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }

    /// Stdout as a writer, for output written as it is produced (query rows).
    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// What was written to stdout and stderr (empty for `stdio`).
    pub fn into_captured(self) -> (Vec<u8>, Vec<u8>) {
        let take = |sink: Sink| match sink {
            Sink::Buffer(buffer) => buffer,
            Sink::Stdout | Sink::Stderr => Vec::new(),
        };
        (take(self.out), take(self.err))
    }
}
