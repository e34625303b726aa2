//! The Metadata API as certmint speaks it, both sides: the components a JWT bearer
//! integration deploys (a `ConnectedApp`, or the five types of an External Client App, and
//! a `PermissionSet`), written and read as XML in the schema's element order; the manifest
//! (`package.xml`); deploy packages as zip files; and the REST deploy contract
//! (`POST /services/data/vNN.0/metadata/deployRequest`, its polling answer, the
//! `DeployResult` state machine and per-component messages).
//!
//! A client builds components from the typed structs, packs them with [`DeployPackage`],
//! sends [`multipart_body`] and reads [`DeployRequestResponse`]; the emulator reads the
//! same body with [`DeployZip::read`] and [`Component::from_xml`] and answers with the
//! same response types, so the two cannot drift apart.
//!
//! ```
//! use certmint::wire::metadata::*;
//! # fn main() -> certmint::Result<()> {
//! let header = ExternalClientApplication {
//!     contact_email: "admin@example.com".into(),
//!     label: "certmint".into(),
//!     distribution_state: Some(DistributionState::Local),
//!     ..Default::default()
//! };
//! let mut package = DeployPackage::new(62);
//! package.add("certmint", &Component::ExternalClientApplication(header))?;
//! let zip = package.to_zip()?;
//! let read = DeployZip::read(&zip, &ZipLimits::default()).expect("a zip we wrote");
//! let file = read.find(MetadataType::ExternalClientApplication, "certmint").expect("its file");
//! let back = Component::from_xml(
//!     MetadataType::ExternalClientApplication,
//!     &file.bytes,
//!     &ReadOptions { api_version: Some(62), ..Default::default() },
//! ).expect("valid");
//! assert!(matches!(back, Component::ExternalClientApplication(h) if h.label == "certmint"));
//! # Ok(()) }
//! ```
//!
//! Sources: Salesforce's Metadata API Developer Guide (the type reference pages, deploy(),
//! DeployResult, the REST deploy resources) and the metadata registry of the Salesforce
//! CLI's `source-deploy-retrieve`; `docs/emulator.md` ("Metadata API") names what is
//! inferred.

mod deploy;
pub mod eca;
mod enums;
mod package;
pub mod soap;
mod tree;
mod types;
mod xml;
mod zip;

pub use deploy::{
    DEPLOY_REQUEST_PATH, DeployDetails, DeployMessage, DeployOptions, DeployRequestBody,
    DeployRequestResponse, DeployResult, DeployStatus, ENTITY_CONTENT_PART, FILE_PART, JSON_PART,
    ProblemType, TestLevel, deploy_request_path, multipart_body,
};
pub use eca::EcaPartNames;
pub use enums::{
    DistributionState, IpRelaxation, IpRelaxationPolicyType, OauthScope, PermittedUsersPolicyType,
    RefreshTokenPolicyType, RefreshTokenValidityUnit, SessionLevel,
};
pub use package::{
    Component, MetadataType, Package, PackageTypeMembers, check_consumer_key,
    check_eca_consumer_key, check_full_name,
};
pub use tree::Element;
pub use types::{
    ConnectedApp, ConnectedAppOauthConfig, ConnectedAppOauthPolicy, ConnectedAppSessionPolicy,
    ExternalClientApplication, ExtlClntAppConfigurablePolicies, ExtlClntAppGlobalOauthSettings,
    ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings, PermissionSet,
    PermissionSetUserPermission,
};
pub use xml::{NAMESPACE, OutOfOrder, Problem, ReadOptions};
pub use zip::{
    DESTRUCTIVE_CHANGES, DESTRUCTIVE_CHANGES_POST, DESTRUCTIVE_CHANGES_PRE, DeployPackage,
    DeployZip, ZipEntry, ZipLimits,
};

#[cfg(test)]
mod tests;
