//! Console size: the release `dist/`'s wasm, js and css, each file
//! compressed on its own (as a server or CDN serves them) with gzip -9 and
//! brotli at quality 11, the sizes added up.
//!
//! The console's first page, the cache list, fetches the scripts, the
//! styles and the main module (`*_bg.wasm`); every other wasm file is a
//! page's chunk, fetched when that page is first shown
//! (`src/routes/chunks.rs`). The figures are the first page's, with every
//! file's gzip total beside them.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::report::{Figure, Figures, Key};

/// The figures [`measure`] gives.
pub const KEYS: [Key; 3] = [
    Key::BundleGzipBytes,
    Key::BundleAllGzipBytes,
    Key::BundleBrotliBytes,
];

/// The file types the issue counts.
const COUNTED: &[&str] = &["wasm", "js", "css"];

/// Measures `dist` (Trunk's output, top level only: `public/` assets such
/// as the world map are not code).
pub fn measure(dist: &Path) -> Result<(Figures, String)> {
    let mut raw = 0;
    let mut gzip = 0;
    let mut all_gzip = 0;
    let mut brotli = 0;
    let mut files = 0;
    let mut chunks = 0;
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
        let gzipped = gzip_size(&data)?;
        all_gzip += gzipped;
        files += 1;
        if is_chunk(&path) {
            chunks += 1;
            continue;
        }
        raw += data.len();
        gzip += gzipped;
        brotli += brotli_size(&data)?;
    }
    if files == 0 {
        bail!("{} holds no wasm, js or css", dist.display());
    }
    let note = format!(
        "console: {files} files (wasm, js, css) in dist/, {chunks} of them page chunks; \
         the first page's {} are {:.1} kB uncompressed",
        files - chunks,
        raw as f64 / 1000.0
    );
    Ok((
        vec![
            (Key::BundleGzipBytes, Figure::Measured(gzip as f64)),
            (Key::BundleAllGzipBytes, Figure::Measured(all_gzip as f64)),
            (Key::BundleBrotliBytes, Figure::Measured(brotli as f64)),
        ],
        note,
    ))
}

/// Whether `path` is a page's chunk: a wasm file other than the main
/// module, which wasm-bindgen names `*_bg.wasm`.
fn is_chunk(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".wasm") && !name.ends_with("_bg.wasm")
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
        std::fs::write(dir.join("app_bg.wasm"), &text).unwrap();
        std::fs::write(dir.join("overview-0a1b2c3d.wasm"), &text).unwrap();
        std::fs::write(dir.join("index.html"), &text).unwrap();
        std::fs::write(dir.join("public").join("map.svg"), &text).unwrap();
        let (figures, note) = measure(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let Figure::Measured(gzip) = figures[0].1 else {
            panic!("no gzip size")
        };
        let Figure::Measured(all_gzip) = figures[1].1 else {
            panic!("no total gzip size")
        };
        let Figure::Measured(brotli) = figures[2].1 else {
            panic!("no brotli size")
        };
        assert!(gzip > 0.0 && gzip < text.len() as f64, "{gzip}");
        // Four files of the same text, one of them a chunk: the first
        // page counts three.
        assert_eq!(all_gzip * 3.0, gzip * 4.0, "{all_gzip} {gzip}");
        assert!(brotli > 0.0 && brotli < text.len() as f64, "{brotli}");
        assert!(note.contains("4 files"), "{note}");
        assert!(note.contains("1 of them page chunks"), "{note}");
    }
}
