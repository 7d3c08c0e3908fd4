//! The console's wasm, split into chunks that load on demand.
//!
//! Trunk builds the console with `--cfg georep_split`, which makes each page
//! in `src/routes/chunks.rs` a split point, and links it with relocations
//! kept (`--emit-relocs`). Trunk itself cannot split, so after it has
//! written `dist/`, this redoes the wasm half of its work from the linked
//! binary, the way cargo-leptos does:
//!
//! 1. `wasm-split-cli` cuts the linked wasm into a main module, one chunk
//!    per page (and chunks for code several pages share), and a small JS
//!    loader, `__wasm_split.js`, that fetches them;
//! 2. `wasm-bindgen` generates the glue for the main module, keeping the
//!    exports the chunks import from it;
//! 3. `wasm-opt` shrinks every module;
//! 4. `esbuild` minifies both scripts;
//! 5. every chunk, and the loader, is named after its content, so a browser
//!    never runs a stale chunk against a new main module.
//!
//! The glue and the main module keep the names Trunk gave them, so Trunk's
//! `index.html` loads them unchanged.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::cmd::{say, Cmd};
use crate::project;

/// The console's binary, as cargo names its linked wasm.
const BINARY: &str = "georep-console";

/// The module path the split main module imports its chunk loaders from;
/// `wasm-split-cli` always writes the loader under this name.
const LOADER: &str = "__wasm_split.js";

/// wasm-opt's settings for every module. It sorts the functions by name
/// after `-Oz`: the many copies of one generic function then sit side by
/// side, where gzip and brotli find their likeness. It inlines a function
/// with one caller only if it is small (30 in binaryen's measure): inlined
/// into their callers, large ones stopped being copies of one another
/// (README, console size notes).
const WASM_OPT_ARGS: [&str; 4] = [
    "-Oz",
    "--reorder-functions-by-name",
    "--one-caller-inline-max-function-size",
    "30",
];

/// Rustc flags for the linked wasm that [`split`] reads: the split points,
/// and relocations kept in the binary, which tell the splitter where each
/// function's references are.
pub const RUSTFLAGS: &str = "--cfg georep_split -C link-arg=--emit-relocs";

/// Replaces Trunk's wasm and glue in `dist` with the split build of the
/// same binary, and adds its chunks and loader.
pub fn split(dist: &Path) -> Result<()> {
    let linked = project::target_dir()
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join(format!("{BINARY}.wasm"));
    if !linked.is_file() {
        bail!("Trunk left no linked wasm at {}", linked.display());
    }
    let stem = trunk_stem(dist)?;
    let work = project::target_dir().join("wasm-split");
    let _ = fs::remove_dir_all(&work);
    let split_dir = work.join("split");
    let bindgen_dir = work.join("bindgen");
    fs::create_dir_all(&split_dir)?;

    say("==> build-console: wasm-split-cli (a chunk per page)");
    Cmd::new("wasm-split-cli")
        .arg(&linked)
        .arg(&split_dir)
        .args(["--target", "web", "--out-name", &stem])
        .run()?;

    say("==> build-console: wasm-bindgen (the split main module)");
    Cmd::new("wasm-bindgen")
        .arg(split_dir.join(format!("{stem}.wasm")))
        .arg("--out-dir")
        .arg(&bindgen_dir)
        .args(["--out-name", &stem])
        .args(["--target", "web", "--no-typescript"])
        // The chunks import the main module's functions by their linker
        // names, which must survive.
        .args(["--keep-lld-exports", "--no-demangle"])
        .run()?;

    let chunks = chunk_files(&split_dir, &stem)?;
    say(format!(
        "==> build-console: wasm-opt (main module and {} chunks)",
        chunks.len()
    ));
    let main_wasm = dist.join(format!("{stem}_bg.wasm"));
    wasm_opt(&bindgen_dir.join(format!("{stem}_bg.wasm")), &main_wasm)?;
    let mut loader = fs::read_to_string(split_dir.join(LOADER))?;
    for chunk in &chunks {
        let name = file_name(chunk)?;
        let staged = work.join(name);
        wasm_opt(chunk, &staged)?;
        let hashed = content_name(&staged, "wasm")?;
        fs::rename(&staged, dist.join(&hashed))?;
        let reference = format!("\"./{name}\"");
        if !loader.contains(&reference) {
            bail!("{LOADER} never fetches {name}");
        }
        loader = loader.replace(&reference, &format!("\"./{hashed}\""));
    }

    let loader_path = work.join(LOADER);
    fs::write(&loader_path, loader)?;
    minify(&loader_path, &loader_path)?;
    let loader_name = content_name(&loader_path, "js")?;
    fs::rename(&loader_path, dist.join(&loader_name))?;

    let glue_path = bindgen_dir.join(format!("{stem}.js"));
    let glue = import_from(&fs::read_to_string(&glue_path)?, LOADER, &loader_name)?;
    fs::write(&glue_path, glue)?;
    minify(&glue_path, &dist.join(format!("{stem}.js")))?;
    Ok(())
}

/// The name Trunk gave the console's glue and main module in `dist`:
/// `georep-console-<hash>` for `georep-console-<hash>.js` and its
/// `_bg.wasm`.
fn trunk_stem(dist: &Path) -> Result<String> {
    let mut stems = Vec::new();
    for entry in fs::read_dir(dist)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix("_bg.wasm") {
            if stem.starts_with(BINARY) {
                stems.push(stem.to_owned());
            }
        }
    }
    match stems.as_slice() {
        [stem] => Ok(stem.clone()),
        _ => bail!(
            "expected one {BINARY}-*_bg.wasm from Trunk in {}, found {stems:?}",
            dist.display()
        ),
    }
}

/// The chunks `wasm-split-cli` wrote into `dir`: every wasm but the main
/// module.
fn chunk_files(dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    let main = format!("{stem}.wasm");
    let mut chunks = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_chunk = path.extension().is_some_and(|e| e == "wasm")
            && path.file_name().is_some_and(|n| n != main.as_str());
        if is_chunk {
            chunks.push(path);
        }
    }
    chunks.sort();
    Ok(chunks)
}

/// `glue` with its `import … from "./{old}"` statements importing from
/// `./{new}` instead. Only the module specifiers change: the keys of the
/// object the wasm is instantiated with stay the module name the wasm
/// imports from.
fn import_from(glue: &str, old: &str, new: &str) -> Result<String> {
    let mut changed = glue.to_owned();
    for quote in ['"', '\''] {
        changed = changed.replace(
            &format!("from {quote}./{old}{quote}"),
            &format!("from {quote}./{new}{quote}"),
        );
    }
    if changed == glue {
        bail!("the glue of the split build never imports {old}");
    }
    Ok(changed)
}

/// `wasm-opt` with [`WASM_OPT_ARGS`] from `input` to `output`.
fn wasm_opt(input: &Path, output: &Path) -> Result<()> {
    Cmd::new("wasm-opt")
        .args(WASM_OPT_ARGS)
        .arg(input)
        .arg("--output")
        .arg(output)
        .run()
}

/// Minifies the ES module `input` into `output` (which may be `input`),
/// keeping its exports (the loader and `index.html` import them by name).
fn minify(input: &Path, output: &Path) -> Result<()> {
    Cmd::new("esbuild")
        .arg(input)
        .args([
            "--minify",
            "--format=esm",
            "--log-level=warning",
            "--allow-overwrite",
            // wasm-bindgen names the loader once per function it imports
            // from it, each time as the same module namespace: harmless.
            "--log-override:duplicate-object-key=silent",
        ])
        .arg(format!("--outfile={}", output.display()))
        .run()
}

/// `path`'s stem with a checksum of its content and `extension`:
/// `module_1_overview-3f2a9c01.wasm`.
fn content_name(path: &Path, extension: &str) -> Result<String> {
    let data = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .context("a file with no name")?
        .trim_start_matches('_');
    Ok(format!("{stem}-{:08x}.{extension}", fnv1a(&data)))
}

/// The file name of `path`, as text.
fn file_name(path: &Path) -> Result<&str> {
    path.file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no file name", path.display()))
}

/// 32-bit FNV-1a: enough to tell one build's file from another's.
fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_import_statements_name_the_new_loader() {
        let glue = "import * as import1 from \"./__wasm_split.js\";\n\
                    const imports = { \"./__wasm_split.js\": import1 };";
        let changed = import_from(glue, "__wasm_split.js", "wasm_split-1.js").unwrap();
        assert_eq!(
            changed,
            "import * as import1 from \"./wasm_split-1.js\";\n\
             const imports = { \"./__wasm_split.js\": import1 };"
        );
        assert!(import_from("const a = 1;", "__wasm_split.js", "x.js").is_err());
    }

    #[test]
    fn a_changed_byte_changes_the_name() {
        assert_ne!(fnv1a(b"chunk one"), fnv1a(b"chunk onf"));
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
    }
}
