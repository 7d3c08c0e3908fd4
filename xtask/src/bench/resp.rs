//! Just enough of a Redis client (RESP2 over TCP) to load data, write
//! under failover and read replication state, without a client library.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text (status, error or bulk string).
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Status(s) | Reply::Error(s) => Some(s.clone()),
            Reply::Bulk(Some(bytes)) => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        }
    }
}

/// A connection to one Redis server (or to a proxy in front of one).
pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    /// Connects, and authenticates as the `default` user when `password` is
    /// given. Every read and write gives up after `timeout`.
    pub fn open(addr: SocketAddr, password: Option<&str>, timeout: Duration) -> Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut connection = Connection {
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone()?),
            writer: stream,
        };
        if let Some(password) = password {
            connection.ok(&["AUTH", password])?;
        }
        Ok(connection)
    }

    /// Sends one command and reads its reply (an error reply is `Ok`).
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply> {
        let mut buffer = Vec::new();
        encode(&mut buffer, args);
        self.writer.write_all(&buffer)?;
        read_reply(&mut self.reader)
    }

    /// Sends one command and fails unless the reply is not an error.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply> {
        match self.call(args)? {
            Reply::Error(e) => bail!("{e}"),
            reply => Ok(reply),
        }
    }

    /// Sends already-encoded commands in one write, then reads `count`
    /// replies; fails on the first error reply.
    pub fn pipeline(&mut self, encoded: &[u8], count: usize) -> Result<()> {
        self.writer.write_all(encoded)?;
        for _ in 0..count {
            if let Reply::Error(e) = read_reply(&mut self.reader)? {
                bail!("{e}");
            }
        }
        Ok(())
    }

    /// One section of `INFO`, as `field → value` lines.
    pub fn info(&mut self, section: &str) -> Result<Info> {
        let text = self
            .ok(&["INFO", section])?
            .text()
            .context("INFO answered something other than text")?;
        Ok(Info(text))
    }
}

/// The text `INFO` answers.
#[derive(Debug, Clone)]
pub struct Info(String);

impl Info {
    /// The value of `field`, if present.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.lines().find_map(|line| {
            line.strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    }

    /// `field` as a number.
    pub fn number(&self, field: &str) -> Option<u64> {
        self.get(field)?.parse().ok()
    }

    /// Every line that starts with `prefix` (e.g. `slave` for each replica).
    pub fn lines_starting<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.0.lines().filter(move |l| l.starts_with(prefix))
    }
}

/// Appends a command to `buffer` in RESP.
pub fn encode<A: AsRef<[u8]>>(buffer: &mut Vec<u8>, args: &[A]) {
    buffer.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        let arg = arg.as_ref();
        buffer.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        buffer.extend_from_slice(arg);
        buffer.extend_from_slice(b"\r\n");
    }
}

/// Reads one reply.
fn read_reply(reader: &mut impl BufRead) -> Result<Reply> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    if !line.ends_with(b"\r\n") || line.len() < 3 {
        bail!("malformed reply line {:?}", String::from_utf8_lossy(&line));
    }
    let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    let length = || -> Result<i64> {
        body.parse()
            .with_context(|| format!("bad length {body:?} in a reply"))
    };
    Ok(match line[0] {
        b'+' => Reply::Status(body),
        b'-' => Reply::Error(body),
        b':' => Reply::Integer(length()?),
        b'$' => match usize::try_from(length()?) {
            Err(_) => Reply::Bulk(None),
            Ok(n) => {
                let mut data = vec![0; n + 2];
                reader.read_exact(&mut data)?;
                data.truncate(n);
                Reply::Bulk(Some(data))
            }
        },
        b'*' => match usize::try_from(length()?) {
            Err(_) => Reply::Array(None),
            Ok(n) => Reply::Array(Some(
                (0..n).map(|_| read_reply(reader)).collect::<Result<_>>()?,
            )),
        },
        other => bail!("unknown reply type {:?}", other as char),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands() {
        let mut buffer = Vec::new();
        encode(&mut buffer, &["SET", "k", "v1"]);
        assert_eq!(buffer, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n");
    }

    #[test]
    fn reads_every_reply_type() {
        let wire = b"+OK\r\n-READONLY no\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n$0\r\n\r\n";
        let mut reader = &wire[..];
        assert_eq!(read_reply(&mut reader).unwrap(), Reply::Status("OK".into()));
        assert_eq!(
            read_reply(&mut reader).unwrap(),
            Reply::Error("READONLY no".into())
        );
        assert_eq!(read_reply(&mut reader).unwrap(), Reply::Integer(42));
        assert_eq!(
            read_reply(&mut reader).unwrap(),
            Reply::Bulk(Some(b"abc".to_vec()))
        );
        assert_eq!(read_reply(&mut reader).unwrap(), Reply::Bulk(None));
        assert_eq!(
            read_reply(&mut reader).unwrap(),
            Reply::Array(Some(vec![Reply::Integer(1), Reply::Bulk(Some(vec![]))]))
        );
        assert!(read_reply(&mut reader).is_err(), "end of input");
    }

    #[test]
    fn reads_info_fields() {
        let info = Info("# Replication\r\nrole:master\r\nslave0:ip=127.0.0.1,port=1,state=online,offset=9,lag=0\r\nmaster_repl_offset:9\r\n".into());
        assert_eq!(info.get("role"), Some("master"));
        assert_eq!(info.number("master_repl_offset"), Some(9));
        assert_eq!(info.lines_starting("slave").count(), 1);
        assert_eq!(info.get("missing"), None);
    }
}
