//! Numbered screenshots of the walkthrough: `01-cache-list.png`, …

use std::path::{Path, PathBuf};

/// Where screenshots go: `$GEOREP_SCREENSHOTS_DIR`, else
/// `<target>/e2e-screenshots`.
pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("GEOREP_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| georep_testkit::paths::target_dir().join("e2e-screenshots"))
}

/// Where the walkthrough's screenshots go, numbered in the order taken.
pub struct Screenshots {
    dir: PathBuf,
    taken: usize,
}

impl Screenshots {
    /// Screenshots in `dir`, which is created, and emptied of any earlier
    /// run's numbered screenshots.
    pub fn new(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        for old in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if is_numbered_png(&old.path()) {
                let _ = std::fs::remove_file(old.path());
            }
        }
        Self { dir, taken: 0 }
    }

    /// The path for the next screenshot, `NN-step.png`.
    pub fn next_path(&mut self, step: &str) -> PathBuf {
        self.taken += 1;
        self.dir.join(format!("{:02}-{step}.png", self.taken))
    }

    /// The path for the last step's screenshot at the phone size,
    /// `NN-step-phone.png` (the same number).
    pub fn phone_path(&self, step: &str) -> PathBuf {
        self.dir.join(format!("{:02}-{step}-phone.png", self.taken))
    }

    /// The path for a screenshot of a failure, outside the numbering.
    pub fn failure_path(&self) -> PathBuf {
        self.dir.join("failure.png")
    }
}

/// `NN-anything.png`.
fn is_numbered_png(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let bytes = name.as_bytes();
    name.ends_with(".png")
        && bytes.len() > 3
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && bytes[2] == b'-'
        || name == "failure.png"
}
