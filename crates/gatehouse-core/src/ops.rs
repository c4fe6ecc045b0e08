//! Operators and their compiled targets (dcs-semantics §2.2, §5.2).
//!
//! STUB: interface only; the implementation is being written.

use crate::value::DynValue;
use serde_json::Value;

/// Every operator the reference supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Gt, Gte, Lt, Lte,
    VersionGt, VersionGte, VersionLt, VersionLte, VersionEq, VersionNeq,
    Any, None, AnyCaseSensitive, NoneCaseSensitive,
    StrStartsWithAny, StrEndsWithAny, StrContainsAny, StrContainsNone, StrMatches,
    Eq, Neq, Before, After, On,
    InSegmentList, NotInSegmentList,
    ArrayContainsAny, ArrayContainsNone, ArrayContainsAll, NotArrayContainsAll,
}

impl Operator {
    /// The operator named `s` exactly as in the specs; `None` if unsupported.
    pub fn parse(s: &str) -> Option<Operator> {
        let _ = s;
        None
    }
}

/// An operator with its target compiled at spec load.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub op: Operator,
    target: Value,
}

impl Comparison {
    /// Compile `target` for `op`. Never fails: a target that can never match
    /// (an invalid regex, a wrong type) compiles to the reference's answer.
    pub fn compile(op: Operator, target: &Value) -> Comparison {
        Comparison { op, target: target.clone() }
    }
    /// The string target, if the target is a JSON string (ID-list name, gate name).
    pub fn target_str(&self) -> Option<&str> {
        self.target.as_str()
    }
    /// Apply the operator to `left`. `InSegmentList`/`NotInSegmentList` are
    /// decided by the evaluator (they need ID lists); here they return false.
    pub fn eval(&self, left: &DynValue) -> bool {
        let _ = left;
        false
    }
}
