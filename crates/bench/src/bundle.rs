//! Console size: the release `dist/`'s wasm, js and css, each file
//! compressed on its own (as a server or CDN serves them) with gzip -9 and
//! brotli at quality 11, the sizes added up.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::report::{Figure, Figures, Key};

/// The file types the issue counts.
const COUNTED: &[&str] = &["wasm", "js", "css"];

/// Measures `dist` (Trunk's output, top level only: `public/` assets such
/// as the world map are not code).
pub fn measure(dist: &Path) -> Result<(Figures, String)> {
    let mut raw = 0;
    let mut gzip = 0;
    let mut brotli = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(dist).with_context(|| format!("reading {}", dist.display()))? {
        let path = entry?.path();
        let counted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COUNTED.contains(&e));
        if !counted || !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path)?;
        raw += data.len();
        gzip += gzip_size(&data)?;
        brotli += brotli_size(&data)?;
        files += 1;
    }
    if files == 0 {
        bail!("{} holds no wasm, js or css", dist.display());
    }
    let note = format!(
        "console: {files} files (wasm, js, css) in dist/, {:.1} kB uncompressed",
        raw as f64 / 1000.0
    );
    Ok((
        vec![
            (Key::BundleGzipBytes, Figure::Measured(gzip as f64)),
            (Key::BundleBrotliBytes, Figure::Measured(brotli as f64)),
        ],
        note,
    ))
}

/// The size of `data` gzipped at level 9.
fn gzip_size(data: &[u8]) -> Result<usize> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?.len())
}

/// The size of `data` brotli-compressed at quality 11 (window 2^22), what
/// static precompression uses.
fn brotli_size(data: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        encoder.write_all(data)?;
        encoder.flush()?;
    }
    Ok(out.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_and_counts_only_code() {
        let dir = std::env::temp_dir().join(format!("georep-bench-bundle-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("public")).unwrap();
        let text = "fn main() { println!(\"hello\"); }\n".repeat(200);
        std::fs::write(dir.join("app.js"), &text).unwrap();
        std::fs::write(dir.join("app.css"), &text).unwrap();
        std::fs::write(dir.join("index.html"), &text).unwrap();
        std::fs::write(dir.join("public").join("map.svg"), &text).unwrap();
        let (figures, note) = measure(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let Figure::Measured(gzip) = figures[0].1 else {
            panic!("no gzip size")
        };
        let Figure::Measured(brotli) = figures[1].1 else {
            panic!("no brotli size")
        };
        assert!(gzip > 0.0 && gzip < text.len() as f64, "{gzip}");
        assert!(brotli > 0.0 && brotli < text.len() as f64, "{brotli}");
        assert!(note.contains("2 files"), "{note}");
    }
}
