//! The Metadata API calls of [`OrgClient`]: the REST deploy (`POST …/deployRequest`, then
//! polling `GET …/deployRequest/{id}?includeDetails=true`), and the SOAP reads
//! (`readMetadata`, `listMetadata`: [`crate::wire::metadata::soap`]) that tell what the org
//! holds before anything is changed.

use super::{OrgClient, text_escape};
use crate::connect::plan::API_VERSION;
use crate::error::{Input, OrgCall};
use crate::wire::metadata::soap::{
    self, FileProperties, ListQuery, MAX_LIST_QUERIES, MAX_READ_NAMES, SOAP_CONTENT_TYPE,
    SoapAnswerError, SoapCall,
};
use crate::wire::metadata::{
    DeployOptions, DeployRequestResponse, DeployResult, Element, MetadataType, deploy_request_path,
    multipart_body,
};
use crate::{Error, Result};

impl OrgClient<'_> {
    /// Start a deploy of `zip`; the answer holds its id.
    pub fn deploy(&self, zip: &[u8], options: &DeployOptions) -> Result<DeployRequestResponse> {
        let boundary = format!("certmint-{}", crate::connect::plan::new_consumer_key()?);
        let (ctype, body) = multipart_body(options, zip, &boundary);
        let url = self.instance(&deploy_request_path(API_VERSION));
        let (_, bytes) = self.call(OrgCall::Deploy, "POST", &url, Some((&ctype, &body)))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(Input::RestResponse, e))
    }

    /// The state of deploy `id`, with the per-component messages.
    pub fn deploy_status(&self, id: &str) -> Result<DeployResult> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::invalid(
                Input::RecordId,
                format!("`{}` is not a deploy id", text_escape(id)),
            ));
        }
        let url = self.instance(&format!(
            "{}/{id}?includeDetails=true",
            deploy_request_path(API_VERSION)
        ));
        let (_, bytes) = self.call(OrgCall::DeployStatus, "GET", &url, None)?;
        let r: DeployRequestResponse =
            serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(Input::RestResponse, e))?;
        Ok(r.deploy_result)
    }

    fn soap(&self, call: OrgCall, request: &SoapCall) -> Result<Vec<u8>> {
        let envelope = request.to_envelope(self.token());
        let url = self.instance(&soap::soap_path(API_VERSION));
        let (_, bytes) = self.call(
            call,
            "POST",
            &url,
            Some((SOAP_CONTENT_TYPE, envelope.as_bytes())),
        )?;
        Ok(bytes)
    }

    /// The components `names` of type `kind`, in order: `None` for a name the org does not
    /// have. Every element of each is kept ([`Element`]), `fullName` first.
    pub fn read_metadata(
        &self,
        kind: MetadataType,
        names: &[&str],
    ) -> Result<Vec<Option<Element>>> {
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(MAX_READ_NAMES) {
            let bytes = self.soap(
                OrgCall::ReadMetadata,
                &SoapCall::ReadMetadata {
                    type_name: kind.name().to_owned(),
                    full_names: chunk.iter().map(|n| (*n).to_owned()).collect(),
                },
            )?;
            let records = soap::parse_read_response(&bytes)
                .map_err(|e| answer_error(OrgCall::ReadMetadata, e))?;
            // A record per name asked, in order; match by fullName in case the org
            // answers fewer (a missing component may also be left out).
            for n in chunk {
                let found = records.iter().flatten().find(|r| {
                    r.text_at(&["fullName"])
                        .is_some_and(|f| f.eq_ignore_ascii_case(n))
                });
                out.push(found.cloned());
            }
        }
        Ok(out)
    }

    /// One component of type `kind`, or `None` when the org does not have it.
    pub fn read_one(&self, kind: MetadataType, name: &str) -> Result<Option<Element>> {
        Ok(self
            .read_metadata(kind, &[name])?
            .into_iter()
            .next()
            .flatten())
    }

    /// Every component of each type in `kinds` (`listMetadata`).
    pub fn list_metadata(&self, kinds: &[MetadataType]) -> Result<Vec<FileProperties>> {
        let mut out = Vec::new();
        for chunk in kinds.chunks(MAX_LIST_QUERIES) {
            let bytes = self.soap(
                OrgCall::ListMetadata,
                &SoapCall::ListMetadata {
                    queries: chunk
                        .iter()
                        .map(|k| ListQuery {
                            type_name: k.name().to_owned(),
                            folder: None,
                        })
                        .collect(),
                    as_of_version: Some(format!("{API_VERSION}.0")),
                },
            )?;
            out.extend(
                soap::parse_list_response(&bytes)
                    .map_err(|e| answer_error(OrgCall::ListMetadata, e))?,
            );
        }
        Ok(out)
    }
}

fn answer_error(call: OrgCall, e: SoapAnswerError) -> Error {
    match e {
        SoapAnswerError::Fault(f) => Error::OrgRefused {
            call,
            status: 500,
            code: text_escape(&f.code),
            message: text_escape(&f.message),
        },
        SoapAnswerError::Malformed(m) => Error::corrupt(Input::RestResponse, m),
    }
}
