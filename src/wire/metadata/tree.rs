//! A metadata component as an element tree, every element kept: what `readMetadata`
//! answers and what a client sends back after changing only what it means to change.
//!
//! A Metadata API deploy is declarative: an element the schema has and the file leaves
//! out takes its default (`../shared/reference/salesforce-org-fidelity.md`, D6). So a
//! client that updates an app it did not create must send the app back whole, with the
//! elements its typed structs do not model (IP ranges, SAML, canvas, custom attributes,
//! ...). [`Element`] keeps them: it is parsed from a component file or a SOAP `records`
//! element, edited by path in the schema's element order ([`Element::set`]), and written
//! back as a component file ([`Element::to_file`]). Reading the result with
//! [`super::Component::from_xml`] checks it against the schema as a deploy would.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::package::MetadataType;
use super::xml::{Field, Kind, NAMESPACE, Problem};

/// Deepest nesting read (a SOAP envelope around a component: five levels, the component
/// three).
const MAX_DEPTH: usize = 24;

/// Most elements read in one document.
const MAX_ELEMENTS: usize = 50_000;

/// One XML element: its local name (no prefix), its text (unescaped), its children, and
/// the two XML Schema instance attributes a SOAP answer uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Text content (for an element with children, whatever text sat between them).
    pub text: String,
    /// Child elements, in document order.
    pub children: Vec<Element>,
    /// `xsi:type` (a SOAP `records` element names its metadata type so).
    pub xsi_type: Option<String>,
    /// `xsi:nil="true"`.
    pub nil: bool,
}

impl Element {
    /// An element with `name` and no content.
    pub fn new(name: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            ..Element::default()
        }
    }

    /// A leaf element with `text`.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Element {
            name: name.into(),
            text: text.into(),
            ..Element::default()
        }
    }

    /// Parse the root element of `src` (any namespace; prefixes dropped). Bounded in
    /// depth and element count; a DOCTYPE is refused, and so is any entity besides the
    /// five XML predefines and character references.
    pub fn parse(src: &[u8]) -> Result<Element, Problem> {
        let mut reader = Reader::from_reader(src);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        let bad = |what: String| Problem::new(format!("Error parsing file: {what}"));
        loop {
            let ev = reader.read_event().map_err(|e| bad(e.to_string()))?;
            match ev {
                Event::Start(ref s) | Event::Empty(ref s) => {
                    if root.is_some() {
                        return Err(bad("markup after the root element".into()));
                    }
                    count += 1;
                    if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                        return Err(bad("the document nests too deeply or is too large".into()));
                    }
                    let mut el = Element::new(s.local_name().as_ref().to_owned());
                    for a in s.attributes().flatten() {
                        let key = a.key.local_name();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| bad(e.to_string()))?
                            .into_owned();
                        match key.as_ref() {
                            "type" if a.key.prefix().is_some() => {
                                // `xsi:type="tns:ConnectedApp"` or `xsi:type="ConnectedApp"`.
                                let local = value.rsplit(':').next().unwrap_or(&value);
                                el.xsi_type = Some(local.to_owned());
                            }
                            "nil" if a.key.prefix().is_some() => el.nil = value == "true",
                            _ => {}
                        }
                    }
                    if matches!(ev, Event::Empty(_)) {
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(el),
                            None => root = Some(el),
                        }
                    } else {
                        stack.push(el);
                    }
                }
                Event::End(_) => {
                    let el = stack
                        .pop()
                        .ok_or_else(|| bad("unexpected end tag".into()))?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                }
                Event::Text(t) => {
                    if let Some(el) = stack.last_mut() {
                        el.text.push_str(&t.xml10_content());
                    } else if !t.trim().is_empty() {
                        return Err(bad("Content is not allowed in prolog.".into()));
                    }
                }
                Event::CData(t) => {
                    if let Some(el) = stack.last_mut() {
                        el.text.push_str(&t);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(el) = stack.last_mut() {
                        let entity = format!("&{};", &*r);
                        let s =
                            quick_xml::escape::unescape(&entity).map_err(|e| bad(e.to_string()))?;
                        el.text.push_str(&s);
                    }
                }
                Event::DocType(_) => return Err(bad("a DOCTYPE is not allowed".into())),
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(bad("the document ends inside an element".into()));
        }
        root.ok_or_else(|| bad("Premature end of file.".into()))
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The elements at `path` (names from this element down).
    pub fn at<'a>(&'a self, path: &[&str]) -> Vec<&'a Element> {
        match path.split_first() {
            None => vec![self],
            Some((first, rest)) => self
                .children
                .iter()
                .filter(|c| c.name == *first)
                .flat_map(|c| c.at(rest))
                .collect(),
        }
    }

    /// The trimmed text of the first element at `path`.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).first().map(|e| e.text.trim())
    }

    /// The trimmed texts of every element at `path`.
    pub fn texts_at(&self, path: &[&str]) -> Vec<&str> {
        self.at(path).iter().map(|e| e.text.trim()).collect()
    }

    /// Replace the elements at `path` in a component of type `kind` with one leaf per
    /// value, placed in the schema's element order (intermediate elements are made when
    /// missing). An empty `values` removes them; `&[""]` writes one explicit empty
    /// element (`<permissionSetName></permissionSetName>`, which a ConnectedApp deploy
    /// reads as "remove them all"). An element the schema does not have is refused.
    pub fn set(
        &mut self,
        kind: MetadataType,
        path: &[&str],
        values: &[&str],
    ) -> Result<(), Problem> {
        set_in(self, kind.fields(), path, values)
    }

    /// Remove every element at `path`.
    pub fn remove(&mut self, path: &[&str]) {
        match path {
            [] => {}
            [last] => self.children.retain(|c| c.name != *last),
            [first, rest @ ..] => {
                for c in self.children.iter_mut().filter(|c| c.name == *first) {
                    c.remove(rest);
                }
            }
        }
    }

    /// This element under another name (a SOAP `records` element as its type's root).
    pub fn renamed(&self, name: &str) -> Element {
        Element {
            name: name.to_owned(),
            xsi_type: None,
            ..self.clone()
        }
    }

    /// The leaves below this element as (`a/b/c`, text) pairs, in document order: what a
    /// field-by-field comparison compares.
    pub fn leaves(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for c in &self.children {
            c.collect_leaves("", &mut out);
        }
        out
    }

    fn collect_leaves(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let path = if prefix.is_empty() {
            self.name.clone()
        } else {
            format!("{prefix}/{}", self.name)
        };
        if self.children.is_empty() {
            out.push((path, self.text.trim().to_owned()));
        } else {
            for c in &self.children {
                c.collect_leaves(&path, out);
            }
        }
    }

    /// The element as a metadata component file: the XML declaration, this element as the
    /// root in the metadata namespace, children indented by four spaces. An empty leaf is
    /// written `<name></name>`.
    pub fn to_file(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!("<{} xmlns=\"{NAMESPACE}\">", self.name));
        self.write_children(&mut out, 1);
        out.push_str(&format!("\n</{}>\n", self.name));
        out
    }

    /// The element as a fragment (no declaration, no namespace), at `depth` levels of
    /// four-space indentation; with `xsi_type` written as `xsi:type`.
    pub fn to_fragment(&self, depth: usize) -> String {
        let mut out = String::new();
        self.write(&mut out, depth);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
        out.push('<');
        out.push_str(&self.name);
        if let Some(t) = &self.xsi_type {
            out.push_str(&format!(
                " xsi:type=\"{}\"",
                quick_xml::escape::escape(t.as_str())
            ));
        }
        if self.nil {
            out.push_str(" xsi:nil=\"true\"");
        }
        out.push('>');
        if self.children.is_empty() {
            out.push_str(&quick_xml::escape::escape(self.text.as_str()));
        } else {
            self.write_children(out, depth + 1);
            out.push('\n');
            out.push_str(&"    ".repeat(depth));
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    fn write_children(&self, out: &mut String, depth: usize) {
        for c in &self.children {
            c.write(out, depth);
        }
    }
}

impl super::Component {
    /// The component as an element tree (its root named after its type).
    pub fn to_element(&self) -> crate::Result<Element> {
        Element::parse(self.to_xml()?.as_bytes())
            .map_err(|p| crate::Error::invalid(crate::error::Input::MetadataXml, p.message))
    }

    /// Read a component of type `kind` from an element tree (a SOAP record or an edited
    /// file), checked as a deploy checks a file.
    pub fn from_element(
        kind: MetadataType,
        el: &Element,
        opts: &super::ReadOptions,
    ) -> Result<super::Component, Problem> {
        super::Component::from_xml(kind, el.renamed(kind.name()).to_file().as_bytes(), opts)
    }
}

fn position(fields: &[Field], name: &str) -> Option<usize> {
    fields.iter().position(|f| f.name == name)
}

/// Where a child at schema position `target` goes: before the first child that comes
/// later in the schema (children the schema does not know stay where they are).
fn insert_at(el: &Element, fields: &[Field], target: usize) -> usize {
    el.children
        .iter()
        .position(|c| position(fields, &c.name).is_some_and(|p| p > target))
        .unwrap_or(el.children.len())
}

fn set_in(
    el: &mut Element,
    fields: &'static [Field],
    path: &[&str],
    values: &[&str],
) -> Result<(), Problem> {
    let Some((first, rest)) = path.split_first() else {
        return Err(Problem::new("an empty element path"));
    };
    let Some(target) = position(fields, first) else {
        return Err(Problem::new(format!(
            "Element {{{NAMESPACE}}}{first} invalid at this location in type {}",
            el.name
        )));
    };
    if rest.is_empty() {
        el.children.retain(|c| c.name != *first);
        let at = insert_at(el, fields, target);
        for (i, v) in values.iter().enumerate() {
            el.children.insert(at + i, Element::leaf(*first, *v));
        }
        return Ok(());
    }
    let Kind::Nested(_, nested) = fields[target].kind else {
        return Err(Problem::new(format!("{first} has no child elements")));
    };
    let i = match el.children.iter().position(|c| c.name == *first) {
        Some(i) => i,
        None => {
            let at = insert_at(el, fields, target);
            el.children.insert(at, Element::new(*first));
            at
        }
    };
    set_in(&mut el.children[i], nested, rest, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::metadata::{Component, ReadOptions};

    const APP: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">
    <attributes><formula>$User.Email</formula><key>mail</key></attributes>
    <contactEmail>ops@acme.example</contactEmail>
    <ipRanges><end>10.0.0.255</end><start>10.0.0.1</start></ipRanges>
    <label>Acme &amp; Co</label>
    <oauthConfig>
        <callbackUrl>https://acme.example/cb
https://acme.example/cb2</callbackUrl>
        <consumerKey>ACMEKEY123</consumerKey>
        <scopes>Api</scopes>
        <scopes>Web</scopes>
    </oauthConfig>
    <profileName>System Administrator</profileName>
</ConnectedApp>
"#;

    #[test]
    fn an_edit_keeps_every_other_element_and_the_schema_order() {
        let mut el = Element::parse(APP.as_bytes()).unwrap();
        el.set(
            MetadataType::ConnectedApp,
            &["oauthConfig", "certificate"],
            &["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"],
        )
        .unwrap();
        el.set(
            MetadataType::ConnectedApp,
            &["oauthConfig", "isAdminApproved"],
            &["true"],
        )
        .unwrap();
        el.set(
            MetadataType::ConnectedApp,
            &["permissionSetName"],
            &["acme_jwt"],
        )
        .unwrap();
        let names: Vec<&str> = el.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "attributes",
                "contactEmail",
                "ipRanges",
                "label",
                "oauthConfig",
                "permissionSetName",
                "profileName"
            ]
        );
        let oc: Vec<&str> = el
            .child("oauthConfig")
            .unwrap()
            .children
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            oc,
            [
                "callbackUrl",
                "certificate",
                "consumerKey",
                "isAdminApproved",
                "scopes",
                "scopes"
            ]
        );
        let file = el.to_file();
        // Valid for the schema, and the untouched values are as they were.
        let c = Component::from_xml(
            MetadataType::ConnectedApp,
            file.as_bytes(),
            &ReadOptions::default(),
        )
        .unwrap();
        let Component::ConnectedApp(ca) = c else {
            panic!()
        };
        assert_eq!(ca.label, "Acme & Co");
        assert_eq!(ca.profile_name, ["System Administrator"]);
        let back = Element::parse(file.as_bytes()).unwrap();
        assert_eq!(back.text_at(&["ipRanges", "start"]), Some("10.0.0.1"));
        assert_eq!(
            back.text_at(&["attributes", "formula"]),
            Some("$User.Email")
        );
        assert!(
            back.text_at(&["oauthConfig", "callbackUrl"])
                .unwrap()
                .contains("cb2")
        );
        assert_eq!(back.texts_at(&["oauthConfig", "scopes"]), ["Api", "Web"]);
    }

    #[test]
    fn an_explicit_empty_element_and_removal() {
        let mut el = Element::parse(APP.as_bytes()).unwrap();
        el.set(MetadataType::ConnectedApp, &["profileName"], &[""])
            .unwrap();
        assert!(el.to_file().contains("<profileName></profileName>"));
        el.set(MetadataType::ConnectedApp, &["profileName"], &[])
            .unwrap();
        assert!(!el.to_file().contains("profileName"));
        el.remove(&["oauthConfig", "consumerKey"]);
        assert!(el.text_at(&["oauthConfig", "consumerKey"]).is_none());
        assert!(
            el.set(MetadataType::ConnectedApp, &["nonsense"], &["x"])
                .is_err()
        );
        assert!(
            el.set(MetadataType::ConnectedApp, &["label", "x"], &["x"])
                .is_err()
        );
    }

    #[test]
    fn soap_records_leaves_and_hostile_input() {
        let soap = br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><readMetadataResponse xmlns="http://soap.sforce.com/2006/04/metadata"><result><records xsi:type="ConnectedApp"><fullName>Acme</fullName><label>Acme</label></records><records xsi:nil="true"/></result></readMetadataResponse></soapenv:Body></soapenv:Envelope>"#;
        let env = Element::parse(soap).unwrap();
        let recs = env.at(&["Body", "readMetadataResponse", "result", "records"]);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].xsi_type.as_deref(), Some("ConnectedApp"));
        assert!(recs[1].nil);
        assert_eq!(
            recs[0].leaves(),
            [
                ("fullName".to_owned(), "Acme".to_owned()),
                ("label".to_owned(), "Acme".to_owned())
            ]
        );
        assert!(
            recs[0]
                .to_fragment(1)
                .contains("<records xsi:type=\"ConnectedApp\">")
        );
        for bad in [
            &b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"[..],
            b"<x>&custom;</x>",
            b"<x><y></x>",
            b"",
            b"text",
        ] {
            assert!(
                Element::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(Element::parse(deep.as_bytes()).is_err());
    }
}
