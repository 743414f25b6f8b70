//! `check`, `dump` and `restore`: the store's integrity and a way to move it.

use std::path::Path;

use super::Failure;
use crate::store::Store;

pub fn check(_store: &Store) -> Result<u8, Failure> {
    Err(Failure::Message("check is being built".into()))
}

pub fn dump(_store: &Store, _output: Option<&Path>) -> Result<u8, Failure> {
    Err(Failure::Message("dump is being built".into()))
}

pub fn restore(_db: &Path, _file: &str) -> Result<u8, Failure> {
    Err(Failure::Message("restore is being built".into()))
}
