//! Link HDF5's high-level library (dimension scales, H5DS), which hdf5-metno does not bind.
//! Debian ships it beside libhdf5 in the directory pkg-config reports.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(out) = Command::new("pkg-config")
        .args(["--libs-only-L", "hdf5"])
        .output()
    {
        for dir in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Some(dir) = dir.strip_prefix("-L") {
                println!("cargo:rustc-link-search=native={dir}");
            }
        }
    }
    println!("cargo:rustc-link-lib=dylib=hdf5_hl");
}
