#![doc = include_str!("../README.md")]

mod error;
pub mod escrow;
pub mod files;
pub mod judge;
pub mod sealing;
pub mod trust;
pub mod vss;

pub use error::{Error, Refusal, Result, ShareProblem};
