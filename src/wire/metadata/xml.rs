//! Metadata component files as XML: written through serde in the schema's element order,
//! read in two passes. The first walks the element tree against the type's [`Field`]
//! table (the element names the schema knows, in its order, with the required ones, the
//! repeated ones, the API version each appeared in, and the values of enumerations) and
//! reports the first problem with its line and column, in Salesforce's wording where
//! known; the second maps the checked text onto the typed struct with serde.
//!
//! The schema's sequences are alphabetical after `fullName` (the Metadata API WSDL), so
//! the struct fields are declared in that order and the serializer writes them so. An
//! element out of that order is refused, dropped or read where it is ([`OutOfOrder`]);
//! when the check drops or moves elements, the text serde reads is rewritten with each
//! element's children in the schema's order (so a repeated element split across places
//! reads as one list) and without the dropped ones.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// The XML namespace of every metadata file.
pub const NAMESPACE: &str = "http://soap.sforce.com/2006/04/metadata";

/// Deepest element nesting read (components nest three levels at most).
const MAX_DEPTH: usize = 16;

/// What an element holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Text.
    Text,
    /// `true` or `false`.
    Bool,
    /// An integer.
    Int,
    /// One value of an enumeration (its schema name and spellings).
    Enum(&'static str, &'static [&'static str]),
    /// Comma-separated values of an enumeration.
    EnumList(&'static str, &'static [&'static str]),
    /// Child elements (the nested type's name and fields).
    Nested(&'static str, &'static [Field]),
    /// Known to the schema, not modelled here: any content is accepted and ignored.
    Opaque,
}

/// One element of a type's sequence.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
    pub(crate) many: bool,
    /// First API version (major) that has the element; 0 for all.
    pub(crate) since: u32,
}

impl Field {
    pub(crate) const fn new(name: &'static str, kind: Kind) -> Self {
        Field {
            name,
            kind,
            required: false,
            many: false,
            since: 0,
        }
    }
    pub(crate) const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub(crate) const fn many(mut self) -> Self {
        self.many = true;
        self
    }
    pub(crate) const fn since(mut self, v: u32) -> Self {
        self.since = v;
        self
    }
}

/// Text field.
pub(crate) const fn text(name: &'static str) -> Field {
    Field::new(name, Kind::Text)
}
/// Boolean field.
pub(crate) const fn boolean(name: &'static str) -> Field {
    Field::new(name, Kind::Bool)
}
/// Known, unmodelled field.
pub(crate) const fn opaque(name: &'static str) -> Field {
    Field::new(name, Kind::Opaque)
}

/// What to do with an element that is known but out of the schema's order.
///
/// Whether a real org checks the order of a file deploy is not documented: SOAP calls
/// validate against the WSDL's sequences, but Salesforce's own samples (the External
/// Client App types') are not in that order, one third party reports out-of-order ECA
/// elements dropped silently, and another deployed an out-of-order ECA policies file that
/// failed for another reason. [`OutOfOrder::Accept`] is the most likely behaviour of a
/// real org; each mode is the emulator's choice (`docs/emulator.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutOfOrder {
    /// Refuse the file (`Element … invalid at this location`), as schema validation does.
    #[default]
    Error,
    /// Drop the element silently, as a third party reports for External Client App files.
    Drop,
    /// Read the element wherever it appears among its siblings: the file reads as if its
    /// elements were in the schema's order, and the parts of a repeated element split
    /// across places read as one list, in file order. A second copy of an element that is
    /// not repeated is still refused (`Element … invalid at this location`), as are
    /// unknown elements and elements newer than the deploy's API version.
    Accept,
}

/// How component files are read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// The deploy's API version (`package.xml` `<version>`): elements newer than it are
    /// refused. `None` accepts every element.
    pub api_version: Option<u32>,
    /// Out-of-order elements.
    pub out_of_order: OutOfOrder,
}

/// Why a file is refused: the `problem` text of a deploy's component failure, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What Salesforce says (its wording where known).
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

impl Problem {
    /// A problem without a position.
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    fn at(message: impl Into<String>, src: &[u8], offset: usize) -> Self {
        let (line, column) = position(src, offset);
        Problem {
            message: message.into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{} (line {l}, column {c})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// 1-based line and column of a byte offset.
fn position(src: &[u8], offset: usize) -> (u32, u32) {
    let upto = &src[..offset.min(src.len())];
    let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
    let col = upto.len() - upto.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// Write `value` as a metadata file: the XML declaration, the root element `root` in the
/// metadata namespace, children indented by four spaces in declaration order.
pub(crate) fn write<T: Serialize>(root: &str, value: &T) -> Result<String> {
    let mut body = String::new();
    let mut ser = quick_xml::se::Serializer::with_root(&mut body, Some(root))
        .map_err(|e| Error::invalid(crate::error::Input::MetadataXml, e))?;
    ser.indent(' ', 4);
    value
        .serialize(ser)
        .map_err(|e| Error::invalid(crate::error::Input::MetadataXml, e))?;
    let open = format!("<{root}");
    let Some(rest) = body.strip_prefix(&open) else {
        return Err(Error::invalid(
            crate::error::Input::MetadataXml,
            "the root element was not written",
        ));
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{open} xmlns=\"{NAMESPACE}\"{rest}\n"
    ))
}

/// An element of the parsed tree.
struct Node {
    name: String,
    /// Byte offset of `<`.
    start: usize,
    /// Byte offset just past the end tag.
    end: usize,
    text: String,
    children: Vec<Node>,
}

/// Read a metadata file of type `root` with the fields `fields`: check it, then map it.
pub(crate) fn read<T: DeserializeOwned>(
    root: &'static str,
    fields: &'static [Field],
    src: &[u8],
    opts: &ReadOptions,
) -> std::result::Result<T, Problem> {
    let tree = parse(src)?;
    if tree.name != root {
        return Err(Problem::at(
            format!(
                "Error parsing file: the root element is {}, expected {root}",
                tree.name
            ),
            src,
            tree.start,
        ));
    }
    let mut plan = Plan::new();
    check(root, fields, &tree, src, opts, &mut plan)?;
    let text = std::str::from_utf8(src)
        .map_err(|_| Problem::new("Error parsing file: the file is not UTF-8"))?;
    let text = if plan.is_empty() {
        std::borrow::Cow::Borrowed(text)
    } else {
        let mut out = String::with_capacity(text.len());
        out.push_str(text.get(..tree.start).unwrap_or(""));
        render(text, &tree, &plan, &mut out);
        out.push_str(text.get(tree.end..).unwrap_or(""));
        std::borrow::Cow::Owned(out)
    };
    quick_xml::de::from_str(&text).map_err(|e| Problem::new(format!("Error parsing file: {e}")))
}

/// Parse `src` into an element tree (the root element).
fn parse(src: &[u8]) -> std::result::Result<Node, Problem> {
    let mut reader = Reader::from_reader(src);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let bad = |e: &dyn std::fmt::Display, at: u64| {
        Problem::at(
            format!("Error parsing file: {e}"),
            src,
            usize::try_from(at).unwrap_or(usize::MAX),
        )
    };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = reader
            .read_event()
            .map_err(|e| bad(&e, reader.error_position()))?;
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match ev {
            Event::Start(s) | Event::Empty(s) if root.is_some() => {
                let _ = s;
                return Err(Problem::at(
                    "Error parsing file: markup after the root element",
                    src,
                    before,
                ));
            }
            Event::Start(ref s) | Event::Empty(ref s) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Problem::at(
                        "Error parsing file: elements nest too deeply",
                        src,
                        before,
                    ));
                }
                let name = s.local_name().as_ref().to_owned();
                if stack.is_empty() {
                    let ns = s
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == "xmlns")
                        .map(|a| a.value.into_owned());
                    if ns.as_deref() != Some(NAMESPACE) {
                        return Err(Problem::at(
                            format!(
                                "Error parsing file: the root element {name} is not in the namespace {NAMESPACE}"
                            ),
                            src,
                            before,
                        ));
                    }
                }
                let node = Node {
                    name,
                    start: before,
                    end: after,
                    text: String::new(),
                    children: Vec::new(),
                };
                if matches!(ev, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let Some(mut node) = stack.pop() else {
                    return Err(Problem::at(
                        "Error parsing file: unexpected end tag",
                        src,
                        before,
                    ));
                };
                node.end = after;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                } else if !t.trim().is_empty() {
                    return Err(Problem::at(
                        "Error parsing file: Content is not allowed in prolog.",
                        src,
                        before,
                    ));
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    let entity = format!("&{};", &*r);
                    let s = quick_xml::escape::unescape(&entity)
                        .map_err(|e| bad(&e, reader.buffer_position()))?;
                    n.text.push_str(&s);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(Problem::at(
            "Error parsing file: the file ends inside an element",
            src,
            src.len(),
        ));
    }
    root.ok_or_else(|| Problem::new("Error parsing file: Premature end of file."))
}

fn invalid_here(name: &str, in_type: &str, src: &[u8], at: usize) -> Problem {
    Problem::at(
        format!("Element {{{NAMESPACE}}}{name} invalid at this location in type {in_type}"),
        src,
        at,
    )
}

/// The children to read of each element whose children are read otherwise than as written
/// (some dropped or moved): the element's start offset → the indices of its children, in
/// the order serde is to read them.
type Plan = std::collections::BTreeMap<usize, Vec<usize>>;

fn check(
    in_type: &'static str,
    fields: &'static [Field],
    node: &Node,
    src: &[u8],
    opts: &ReadOptions,
    plan: &mut Plan,
) -> std::result::Result<(), Problem> {
    // The furthest schema position reached so far.
    let mut last: Option<usize> = None;
    let mut seen = vec![false; fields.len()];
    // (schema position, child index) of each child kept.
    let mut kept: Vec<(usize, usize)> = Vec::with_capacity(node.children.len());
    let mut rearranged = false;
    for (c, child) in node.children.iter().enumerate() {
        let found = fields.iter().position(|f| f.name == child.name);
        let Some(i) = found else {
            return Err(invalid_here(&child.name, in_type, src, child.start));
        };
        let f = &fields[i];
        if opts.api_version.is_some_and(|v| f.since > v) {
            return Err(invalid_here(&child.name, in_type, src, child.start));
        }
        let out_of_order = last.is_some_and(|l| i < l || (i == l && !f.many));
        if out_of_order {
            match opts.out_of_order {
                OutOfOrder::Error => {
                    return Err(invalid_here(&child.name, in_type, src, child.start));
                }
                OutOfOrder::Drop => {
                    rearranged = true;
                    continue;
                }
                OutOfOrder::Accept if seen[i] && !f.many => {
                    return Err(invalid_here(&child.name, in_type, src, child.start));
                }
                OutOfOrder::Accept => rearranged = true,
            }
        }
        last = Some(last.map_or(i, |l| l.max(i)));
        seen[i] = true;
        kept.push((i, c));
        check_value(f, child, src, opts, plan)?;
    }
    if rearranged {
        // Stable: the parts of a repeated element keep their file order.
        kept.sort_by_key(|&(i, _)| i);
        plan.insert(node.start, kept.into_iter().map(|(_, c)| c).collect());
    }
    for (f, s) in fields.iter().zip(&seen) {
        if f.required && !s && opts.api_version.is_none_or(|v| f.since <= v) {
            return Err(Problem::at(
                format!("Required field is missing: {}", f.name),
                src,
                node.start,
            ));
        }
    }
    Ok(())
}

/// Append `node` as serde is to read it: as written, except that the elements `plan`
/// names have their children in the planned order (whitespace between them).
fn render(text: &str, node: &Node, plan: &Plan, out: &mut String) {
    let (Some(first), Some(last)) = (node.children.first(), node.children.last()) else {
        out.push_str(text.get(node.start..node.end).unwrap_or(""));
        return;
    };
    out.push_str(text.get(node.start..first.start).unwrap_or(""));
    match plan.get(&node.start) {
        Some(order) => {
            for &c in order {
                if let Some(child) = node.children.get(c) {
                    out.push('\n');
                    render(text, child, plan, out);
                }
            }
            out.push('\n');
        }
        None => {
            for (k, child) in node.children.iter().enumerate() {
                render(text, child, plan, out);
                if let Some(next) = node.children.get(k + 1) {
                    out.push_str(text.get(child.end..next.start).unwrap_or(""));
                }
            }
        }
    }
    out.push_str(text.get(last.end..node.end).unwrap_or(""));
}

fn check_value(
    f: &Field,
    node: &Node,
    src: &[u8],
    opts: &ReadOptions,
    plan: &mut Plan,
) -> std::result::Result<(), Problem> {
    let value = node.text.trim();
    let not_valid = |what: String| Problem::at(what, src, node.start);
    match f.kind {
        Kind::Opaque => Ok(()),
        Kind::Nested(t, fields) => check(t, fields, node, src, opts, plan),
        _ if !node.children.is_empty() => Err(invalid_here(
            &node.children[0].name,
            f.name,
            src,
            node.children[0].start,
        )),
        Kind::Text => Ok(()),
        Kind::Bool => match value {
            "true" | "false" => Ok(()),
            v => Err(not_valid(format!(
                "'{v}' is not a valid value for the type boolean"
            ))),
        },
        Kind::Int => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| not_valid(format!("'{value}' is not a valid value for the type int"))),
        Kind::Enum(name, values) => {
            if values.contains(&value) {
                Ok(())
            } else {
                Err(not_valid(format!(
                    "'{value}' is not a valid value for the enum '{name}'"
                )))
            }
        }
        Kind::EnumList(name, values) => {
            for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                if !values.contains(&v) {
                    return Err(not_valid(format!(
                        "'{v}' is not a valid value for the enum '{name}'"
                    )));
                }
            }
            Ok(())
        }
    }
}

/// Serde for a comma-separated list of enumeration values (`Api, Web, RefreshToken`):
/// written with `", "` between values, read trimming each.
pub(crate) mod comma_list {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S, T>(v: &[T], s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: std::fmt::Display,
    {
        let text: Vec<String> = v.iter().map(ToString::to_string).collect();
        s.serialize_str(&text.join(", "))
    }

    pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let s = String::deserialize(d)?;
        s.split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

/// Serde for an optional comma-separated list of names (`System Administrator, Ops`).
pub(crate) mod comma_names {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.join(", "))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let s = String::deserialize(d)?;
        Ok(s.split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(position(b"ab\ncd", 0), (1, 1));
        assert_eq!(position(b"ab\ncd", 4), (2, 2));
        assert_eq!(position(b"ab", 99), (1, 3));
    }

    #[test]
    fn malformed_xml_is_a_problem_not_a_panic() {
        const F: &[Field] = &[text("a")];
        let opts = ReadOptions::default();
        for bad in [
            &b""[..],
            b"junk",
            b"<X xmlns=\"http://soap.sforce.com/2006/04/metadata\"><a>",
            b"<X><a/></X>",
            b"<X xmlns=\"http://soap.sforce.com/2006/04/metadata\"></Y>",
            b"<X xmlns=\"http://soap.sforce.com/2006/04/metadata\"/><X/>",
        ] {
            let r: std::result::Result<serde::de::IgnoredAny, Problem> = read("X", F, bad, &opts);
            assert!(r.is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
