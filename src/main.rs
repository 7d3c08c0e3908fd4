//! Entry point of the console's WebAssembly binary.

fn main() {
    georep_console::start();
}
