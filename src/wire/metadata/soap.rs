//! The SOAP Metadata API calls certmint reads the org with, both sides: `readMetadata`
//! (components by type and full name, every element) and `listMetadata` (the components of
//! a type: full name, id, file name). The REST Metadata API deploys but cannot read, so
//! before changing an app it did not create (a connected app, or an External Client App
//! made in Setup) a client reads it here, and changes only what it means to.
//!
//! - Endpoint: `POST <instance>/services/Soap/m/<version>` ([`soap_path`]), `Content-Type:
//!   text/xml; charset=UTF-8`, `SOAPAction: ""`; the access token goes in
//!   `<SessionHeader><sessionId>` (the Metadata API WSDL; jsforce `src/soap.ts`).
//! - `readMetadata(type, fullNames[])` answers `ReadResult{records[]}`, each record
//!   `xsi:type` the metadata type with `fullName` first; a name that does not exist gives a
//!   record without `fullName` (sfdx-ci-plugin and sfdx-hardis test for that), not a
//!   fault. At most [`MAX_READ_NAMES`] names per call.
//! - `listMetadata(queries[], asOfVersion)` answers `FileProperties[]`; at most
//!   [`MAX_LIST_QUERIES`] queries per call.
//! - A fault is HTTP 500 with `<soapenv:Fault><faultcode>sf:CODE</faultcode>
//!   <faultstring>CODE: message</faultstring>`; an invalid token is
//!   `sf:INVALID_SESSION_ID` (jsforce detects exactly that code).
//!
//! The client builds requests with [`SoapCall::to_envelope`] and reads answers with
//! [`parse_read_response`] / [`parse_list_response`]; the emulator reads requests with
//! [`SoapRequest::parse`] and answers with [`read_response`], [`list_response`] and
//! [`SoapFault::to_envelope`], so the two cannot drift.

use zeroize::Zeroizing;

use super::NAMESPACE;
use super::tree::Element;
use super::xml::Problem;

/// `readMetadata` reads at most this many components per call (Salesforce's limit for the
/// CRUD-based calls).
pub const MAX_READ_NAMES: usize = 10;
/// `listMetadata` takes at most this many queries per call.
pub const MAX_LIST_QUERIES: usize = 3;
/// The SOAP envelope's namespace.
pub const ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// XML Schema instance (`xsi:type`, `xsi:nil`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The request's content type.
pub const SOAP_CONTENT_TYPE: &str = "text/xml; charset=UTF-8";
/// The prefix of the Metadata API's SOAP endpoints (the version follows).
pub const SOAP_PATH_PREFIX: &str = "/services/Soap/m/";

/// The Metadata API's SOAP endpoint of API version `major`.0.
pub fn soap_path(api_version: u32) -> String {
    format!("{SOAP_PATH_PREFIX}{api_version}.0")
}

/// One `ListMetadataQuery`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// The metadata type's name.
    pub type_name: String,
    /// The folder, for foldered types.
    pub folder: Option<String>,
}

/// A call this contract knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SoapCall {
    /// `readMetadata(type, fullNames)`.
    ReadMetadata {
        /// The metadata type's name.
        type_name: String,
        /// The components' full names.
        full_names: Vec<String>,
    },
    /// `listMetadata(queries, asOfVersion)`.
    ListMetadata {
        /// The queries.
        queries: Vec<ListQuery>,
        /// `asOfVersion`, e.g. `62.0`.
        as_of_version: Option<String>,
    },
}

/// A SOAP request as the emulator reads it: the session and the call. `Debug` masks the
/// session.
#[derive(Clone)]
pub struct SoapRequest {
    /// `SessionHeader/sessionId` (the access token).
    pub session_id: Option<Zeroizing<String>>,
    /// The call; `None` when the body names an operation this contract does not know
    /// (its local name is `operation`).
    pub call: Option<SoapCall>,
    /// The operation's element name (`readMetadata`, `deploy`, ...).
    pub operation: String,
}

impl std::fmt::Debug for SoapRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoapRequest")
            .field("session_id", &self.session_id.as_ref().map(|_| "***"))
            .field("call", &self.call)
            .field("operation", &self.operation)
            .finish()
    }
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

impl SoapCall {
    /// The request envelope for `session_id` (held only in the returned string, which the
    /// caller zeroizes).
    pub fn to_envelope(&self, session_id: &str) -> Zeroizing<String> {
        let body = match self {
            SoapCall::ReadMetadata {
                type_name,
                full_names,
            } => {
                let mut b = format!("<readMetadata><type>{}</type>", esc(type_name));
                for n in full_names {
                    b.push_str(&format!("<fullNames>{}</fullNames>", esc(n)));
                }
                b.push_str("</readMetadata>");
                b
            }
            SoapCall::ListMetadata {
                queries,
                as_of_version,
            } => {
                let mut b = String::from("<listMetadata>");
                for q in queries {
                    b.push_str("<queries>");
                    if let Some(f) = &q.folder {
                        b.push_str(&format!("<folder>{}</folder>", esc(f)));
                    }
                    b.push_str(&format!("<type>{}</type></queries>", esc(&q.type_name)));
                }
                if let Some(v) = as_of_version {
                    b.push_str(&format!("<asOfVersion>{}</asOfVersion>", esc(v)));
                }
                b.push_str("</listMetadata>");
                b
            }
        };
        Zeroizing::new(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{ENVELOPE_NS}\" xmlns:xsi=\"{XSI_NS}\"><soapenv:Header xmlns=\"{NAMESPACE}\"><SessionHeader><sessionId>{}</sessionId></SessionHeader></soapenv:Header><soapenv:Body xmlns=\"{NAMESPACE}\">{body}</soapenv:Body></soapenv:Envelope>",
            esc(session_id)
        ))
    }
}

impl SoapRequest {
    /// Read a request envelope. A body that is not a SOAP envelope is a fault the caller
    /// answers (`soapenv:Client`).
    pub fn parse(bytes: &[u8]) -> Result<SoapRequest, SoapFault> {
        let env = Element::parse(bytes).map_err(|p| SoapFault::client(&p.message))?;
        if env.name != "Envelope" {
            return Err(SoapFault::client("the body is not a SOAP envelope"));
        }
        let session_id = env
            .text_at(&["Header", "SessionHeader", "sessionId"])
            .filter(|s| !s.is_empty())
            .map(|s| Zeroizing::new(s.to_owned()));
        let op = env
            .child("Body")
            .and_then(|b| b.children.first())
            .ok_or_else(|| SoapFault::client("the envelope has no operation in its Body"))?;
        let call = match op.name.as_str() {
            "readMetadata" => Some(SoapCall::ReadMetadata {
                type_name: op.text_at(&["type"]).unwrap_or_default().to_owned(),
                full_names: op
                    .texts_at(&["fullNames"])
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            }),
            "listMetadata" => Some(SoapCall::ListMetadata {
                queries: op
                    .children_named("queries")
                    .map(|q| ListQuery {
                        type_name: q.text_at(&["type"]).unwrap_or_default().to_owned(),
                        folder: q.text_at(&["folder"]).map(str::to_owned),
                    })
                    .collect(),
                as_of_version: op.text_at(&["asOfVersion"]).map(str::to_owned),
            }),
            _ => None,
        };
        Ok(SoapRequest {
            session_id,
            call,
            operation: op.name.clone(),
        })
    }
}

/// A SOAP fault: its code without the `sf:` prefix (`INVALID_SESSION_ID`) and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoapFault {
    /// `faultcode` without its prefix.
    pub code: String,
    /// `faultstring`.
    pub message: String,
    /// True for a `sf:` code (Salesforce's), false for the envelope's own
    /// (`soapenv:Client`).
    pub salesforce: bool,
}

impl SoapFault {
    /// A Salesforce fault: `faultcode` `sf:CODE`, `faultstring` `CODE: message`.
    pub fn new(code: &str, message: &str) -> Self {
        SoapFault {
            code: code.to_owned(),
            message: format!("{code}: {message}"),
            salesforce: true,
        }
    }

    /// A malformed request (`soapenv:Client`).
    pub fn client(message: &str) -> Self {
        SoapFault {
            code: "Client".into(),
            message: message.to_owned(),
            salesforce: false,
        }
    }

    /// `sf:INVALID_SESSION_ID`, as Salesforce words it.
    pub fn invalid_session() -> Self {
        SoapFault::new(
            crate::wire::rest::INVALID_SESSION_ID,
            "Invalid Session ID found in SessionHeader: Illegal Session",
        )
    }

    /// The fault envelope (served with HTTP 500).
    pub fn to_envelope(&self) -> String {
        let code = if self.salesforce {
            format!("sf:{}", self.code)
        } else {
            format!("soapenv:{}", self.code)
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{ENVELOPE_NS}\" xmlns:sf=\"{NAMESPACE}\"><soapenv:Body><soapenv:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
            esc(&code),
            esc(&self.message)
        )
    }

    /// The fault in an answer, if it is one.
    pub fn from_envelope(env: &Element) -> Option<SoapFault> {
        let f = env.at(&["Body", "Fault"]).into_iter().next()?;
        let raw = f.text_at(&["faultcode"]).unwrap_or_default();
        let (prefix, code) = raw.split_once(':').unwrap_or(("", raw));
        Some(SoapFault {
            code: code.to_owned(),
            message: f.text_at(&["faultstring"]).unwrap_or_default().to_owned(),
            salesforce: prefix == "sf",
        })
    }
}

impl std::fmt::Display for SoapFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One `FileProperties` of a `listMetadata` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileProperties {
    /// `createdById`.
    pub created_by_id: String,
    /// `createdByName`.
    pub created_by_name: String,
    /// `createdDate`.
    pub created_date: String,
    /// `fileName`, e.g. `externalClientApps/acme.eca`.
    pub file_name: String,
    /// `fullName`.
    pub full_name: String,
    /// `id`.
    pub id: String,
    /// `lastModifiedById`.
    pub last_modified_by_id: String,
    /// `lastModifiedByName`.
    pub last_modified_by_name: String,
    /// `lastModifiedDate`.
    pub last_modified_date: String,
    /// `manageableState` (`unmanaged`, `installed`, ...).
    pub manageable_state: Option<String>,
    /// `namespacePrefix`.
    pub namespace_prefix: Option<String>,
    /// `type`.
    pub type_name: String,
}

impl FileProperties {
    fn to_element(&self) -> Element {
        let mut e = Element::new("result");
        let mut put = |n: &str, v: &str| e.children.push(Element::leaf(n, v));
        put("createdById", &self.created_by_id);
        put("createdByName", &self.created_by_name);
        put("createdDate", &self.created_date);
        put("fileName", &self.file_name);
        put("fullName", &self.full_name);
        put("id", &self.id);
        put("lastModifiedById", &self.last_modified_by_id);
        put("lastModifiedByName", &self.last_modified_by_name);
        put("lastModifiedDate", &self.last_modified_date);
        if let Some(m) = &self.manageable_state {
            put("manageableState", m);
        }
        if let Some(n) = &self.namespace_prefix {
            put("namespacePrefix", n);
        }
        put("type", &self.type_name);
        e
    }

    fn from_element(e: &Element) -> FileProperties {
        let t = |n: &str| e.text_at(&[n]).unwrap_or_default().to_owned();
        FileProperties {
            created_by_id: t("createdById"),
            created_by_name: t("createdByName"),
            created_date: t("createdDate"),
            file_name: t("fileName"),
            full_name: t("fullName"),
            id: t("id"),
            last_modified_by_id: t("lastModifiedById"),
            last_modified_by_name: t("lastModifiedByName"),
            last_modified_date: t("lastModifiedDate"),
            manageable_state: e.text_at(&["manageableState"]).map(str::to_owned),
            namespace_prefix: e
                .text_at(&["namespacePrefix"])
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            type_name: t("type"),
        }
    }
}

fn response_envelope(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{ENVELOPE_NS}\" xmlns=\"{NAMESPACE}\" xmlns:xsi=\"{XSI_NS}\"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>"
    )
}

/// A `readMetadata` answer: one record per name asked, `Some(component)` (its root
/// element, named anything; its children with `fullName` first) or `None` for a name the
/// org does not have (a record without `fullName`).
pub fn read_response(type_name: &str, records: &[Option<Element>]) -> String {
    let mut inner = String::from("<readMetadataResponse><result>");
    for r in records {
        let rec = match r {
            Some(c) => Element {
                xsi_type: Some(type_name.to_owned()),
                ..c.renamed("records")
            },
            None => Element {
                xsi_type: Some(type_name.to_owned()),
                ..Element::new("records")
            },
        };
        inner.push_str(&rec.to_fragment(0));
    }
    inner.push_str("</result></readMetadataResponse>");
    response_envelope(&inner)
}

/// A `listMetadata` answer.
pub fn list_response(props: &[FileProperties]) -> String {
    let mut inner = String::from("<listMetadataResponse>");
    for p in props {
        inner.push_str(&p.to_element().to_fragment(0));
    }
    inner.push_str("</listMetadataResponse>");
    response_envelope(&inner)
}

/// Why an answer could not be used: a fault, or something that is not the contract's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SoapAnswerError {
    /// The org answered with a fault.
    Fault(SoapFault),
    /// Not an answer of this call.
    Malformed(String),
}

fn answer_body(bytes: &[u8], response: &str) -> Result<Element, SoapAnswerError> {
    let env = Element::parse(bytes).map_err(|p: Problem| SoapAnswerError::Malformed(p.message))?;
    if let Some(f) = SoapFault::from_envelope(&env) {
        return Err(SoapAnswerError::Fault(f));
    }
    env.at(&["Body", response])
        .into_iter()
        .next()
        .cloned()
        .ok_or_else(|| SoapAnswerError::Malformed(format!("the answer has no {response}")))
}

/// The records of a `readMetadata` answer, in order; a record without `fullName` (a name
/// the org does not have) is `None`. Each record keeps its children (`fullName` first).
pub fn parse_read_response(bytes: &[u8]) -> Result<Vec<Option<Element>>, SoapAnswerError> {
    let body = answer_body(bytes, "readMetadataResponse")?;
    let Some(result) = body.child("result") else {
        return Ok(Vec::new());
    };
    Ok(result
        .children_named("records")
        .map(|r| {
            (!r.nil && r.text_at(&["fullName"]).is_some_and(|n| !n.is_empty())).then(|| r.clone())
        })
        .collect())
}

/// The `FileProperties` of a `listMetadata` answer.
pub fn parse_list_response(bytes: &[u8]) -> Result<Vec<FileProperties>, SoapAnswerError> {
    let body = answer_body(bytes, "listMetadataResponse")?;
    Ok(body
        .children_named("result")
        .map(FileProperties::from_element)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_keep_the_token_out_of_debug() {
        let call = SoapCall::ReadMetadata {
            type_name: "ConnectedApp".into(),
            full_names: vec!["Acme".into(), "B&C".into()],
        };
        let env = call.to_envelope("00Dxx!secret<token>");
        let req = SoapRequest::parse(env.as_bytes()).unwrap();
        assert_eq!(
            req.session_id.as_deref().map(String::as_str),
            Some("00Dxx!secret<token>")
        );
        assert_eq!(req.call, Some(call));
        assert!(!format!("{req:?}").contains("secret"));
        let list = SoapCall::ListMetadata {
            queries: vec![
                ListQuery {
                    type_name: "ExtlClntAppOauthConfigurablePolicies".into(),
                    folder: None,
                },
                ListQuery {
                    type_name: "ExtlClntAppConfigurablePolicies".into(),
                    folder: None,
                },
            ],
            as_of_version: Some("62.0".into()),
        };
        let req = SoapRequest::parse(list.to_envelope("t").as_bytes()).unwrap();
        assert_eq!(req.call, Some(list));
        let other = br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><deploy/></e:Body></e:Envelope>"#;
        let req = SoapRequest::parse(other).unwrap();
        assert!(req.call.is_none() && req.session_id.is_none());
        assert_eq!(req.operation, "deploy");
        assert!(SoapRequest::parse(b"<x/>").is_err());
    }

    #[test]
    fn answers_round_trip() {
        let mut app = Element::new("ConnectedApp");
        app.children.push(Element::leaf("fullName", "Acme"));
        app.children.push(Element::leaf("label", "Acme & Co"));
        let xml = read_response("ConnectedApp", &[Some(app), None]);
        let recs = parse_read_response(xml.as_bytes()).unwrap();
        assert_eq!(recs.len(), 2);
        let first = recs[0].as_ref().unwrap();
        assert_eq!(first.text_at(&["label"]), Some("Acme & Co"));
        assert_eq!(first.xsi_type.as_deref(), Some("ConnectedApp"));
        assert!(recs[1].is_none());
        let p = FileProperties {
            full_name: "acme_oauth_defaultPolicy".into(),
            file_name: "extlClntAppOauthPolicies/acme_oauth_defaultPolicy.ecaOauthPlcy".into(),
            type_name: "ExtlClntAppOauthConfigurablePolicies".into(),
            id: "0xyz".into(),
            manageable_state: Some("unmanaged".into()),
            ..FileProperties::default()
        };
        let back = parse_list_response(list_response(std::slice::from_ref(&p)).as_bytes()).unwrap();
        assert_eq!(back, [p]);
        assert!(
            parse_list_response(list_response(&[]).as_bytes())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn faults_round_trip() {
        let f = SoapFault::invalid_session();
        let got = parse_read_response(f.to_envelope().as_bytes()).unwrap_err();
        assert_eq!(got, SoapAnswerError::Fault(f.clone()));
        assert_eq!(f.code, "INVALID_SESSION_ID");
        assert!(f.message.starts_with("INVALID_SESSION_ID: "));
        assert!(matches!(
            parse_list_response(b"<html>nope</html>"),
            Err(SoapAnswerError::Malformed(_))
        ));
    }
}
