//! What a deploy is made of: the metadata types ([`MetadataType`]: name, folder, suffix,
//! first API version, from Salesforce's metadata registry as `source-deploy-retrieve`
//! records it), one component of any of them ([`Component`]), the manifest
//! (`package.xml`, [`Package`]), and the naming rules Salesforce applies to API names and
//! consumer keys (and the emulator's assumption for External Client App keys).

use serde::{Deserialize, Serialize};

use super::types::{
    ConnectedApp, ExternalClientApplication, ExtlClntAppConfigurablePolicies,
    ExtlClntAppGlobalOauthSettings, ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings,
    PermissionSet,
};
use super::xml::{self, Field, Kind, Problem, ReadOptions, text};
use crate::Result;

/// A metadata type certmint deploys or the emulator accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MetadataType {
    /// `ConnectedApp`.
    ConnectedApp,
    /// `ExternalClientApplication`.
    ExternalClientApplication,
    /// `ExtlClntAppGlobalOauthSettings`.
    ExtlClntAppGlobalOauthSettings,
    /// `ExtlClntAppOauthSettings`.
    ExtlClntAppOauthSettings,
    /// `ExtlClntAppOauthConfigurablePolicies`.
    ExtlClntAppOauthConfigurablePolicies,
    /// `ExtlClntAppConfigurablePolicies`.
    ExtlClntAppConfigurablePolicies,
    /// `PermissionSet`.
    PermissionSet,
}

impl MetadataType {
    /// Every type.
    pub const ALL: &'static [MetadataType] = &[
        MetadataType::ConnectedApp,
        MetadataType::ExternalClientApplication,
        MetadataType::ExtlClntAppGlobalOauthSettings,
        MetadataType::ExtlClntAppOauthSettings,
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        MetadataType::ExtlClntAppConfigurablePolicies,
        MetadataType::PermissionSet,
    ];

    /// The five types of an External Client App, header first.
    pub const EXTERNAL_CLIENT_APP: &'static [MetadataType] = &[
        MetadataType::ExternalClientApplication,
        MetadataType::ExtlClntAppGlobalOauthSettings,
        MetadataType::ExtlClntAppOauthSettings,
        MetadataType::ExtlClntAppOauthConfigurablePolicies,
        MetadataType::ExtlClntAppConfigurablePolicies,
    ];

    /// The type's name in `package.xml` and deploy results.
    pub fn name(self) -> &'static str {
        match self {
            MetadataType::ConnectedApp => "ConnectedApp",
            MetadataType::ExternalClientApplication => "ExternalClientApplication",
            MetadataType::ExtlClntAppGlobalOauthSettings => "ExtlClntAppGlobalOauthSettings",
            MetadataType::ExtlClntAppOauthSettings => "ExtlClntAppOauthSettings",
            MetadataType::ExtlClntAppOauthConfigurablePolicies => {
                "ExtlClntAppOauthConfigurablePolicies"
            }
            MetadataType::ExtlClntAppConfigurablePolicies => "ExtlClntAppConfigurablePolicies",
            MetadataType::PermissionSet => "PermissionSet",
        }
    }

    /// The folder of its files in a deploy zip.
    pub fn folder(self) -> &'static str {
        match self {
            MetadataType::ConnectedApp => "connectedApps",
            MetadataType::ExternalClientApplication => "externalClientApps",
            MetadataType::ExtlClntAppGlobalOauthSettings => "extlClntAppGlobalOauthSets",
            MetadataType::ExtlClntAppOauthSettings => "extlClntAppOauthSettings",
            MetadataType::ExtlClntAppOauthConfigurablePolicies => "extlClntAppOauthPolicies",
            MetadataType::ExtlClntAppConfigurablePolicies => "extlClntAppPolicies",
            MetadataType::PermissionSet => "permissionsets",
        }
    }

    /// The file suffix (without the dot).
    pub fn suffix(self) -> &'static str {
        match self {
            MetadataType::ConnectedApp => "connectedApp",
            MetadataType::ExternalClientApplication => "eca",
            MetadataType::ExtlClntAppGlobalOauthSettings => "ecaGlblOauth",
            MetadataType::ExtlClntAppOauthSettings => "ecaOauth",
            MetadataType::ExtlClntAppOauthConfigurablePolicies => "ecaOauthPlcy",
            MetadataType::ExtlClntAppConfigurablePolicies => "ecaPlcy",
            MetadataType::PermissionSet => "permissionset",
        }
    }

    /// The first API version (major) with the type.
    pub fn since(self) -> u32 {
        match self {
            MetadataType::ConnectedApp => 29,
            MetadataType::ExtlClntAppConfigurablePolicies => 60,
            MetadataType::PermissionSet => 22,
            _ => 59,
        }
    }

    /// The type of a `package.xml` name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The type of a folder name in a zip.
    pub fn from_folder(folder: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.folder() == folder)
    }

    /// Whether the type is one of the five of an External Client App.
    pub fn is_external_client_app(self) -> bool {
        Self::EXTERNAL_CLIENT_APP.contains(&self)
    }

    /// The path of component `full_name` in a deploy zip (Metadata API format):
    /// `<folder>/<full_name>.<suffix>`.
    pub fn path(self, full_name: &str) -> String {
        format!("{}/{full_name}.{}", self.folder(), self.suffix())
    }

    pub(crate) fn fields(self) -> &'static [Field] {
        match self {
            MetadataType::ConnectedApp => ConnectedApp::FIELDS,
            MetadataType::ExternalClientApplication => ExternalClientApplication::FIELDS,
            MetadataType::ExtlClntAppGlobalOauthSettings => ExtlClntAppGlobalOauthSettings::FIELDS,
            MetadataType::ExtlClntAppOauthSettings => ExtlClntAppOauthSettings::FIELDS,
            MetadataType::ExtlClntAppOauthConfigurablePolicies => {
                ExtlClntAppOauthConfigurablePolicies::FIELDS
            }
            MetadataType::ExtlClntAppConfigurablePolicies => {
                ExtlClntAppConfigurablePolicies::FIELDS
            }
            MetadataType::PermissionSet => PermissionSet::FIELDS,
        }
    }
}

impl std::fmt::Display for MetadataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One metadata component, of any type certmint knows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // a handful per deploy: boxing buys nothing
pub enum Component {
    /// A connected app.
    ConnectedApp(ConnectedApp),
    /// An External Client App's header.
    ExternalClientApplication(ExternalClientApplication),
    /// An External Client App's global OAuth settings (certificate, consumer key).
    ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings),
    /// An External Client App's OAuth settings (scopes).
    ExtlClntAppOauthSettings(ExtlClntAppOauthSettings),
    /// An External Client App's OAuth policies (permitted users).
    ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies),
    /// An External Client App's plugin policies.
    ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies),
    /// A permission set.
    PermissionSet(PermissionSet),
}

impl Component {
    /// The component's type.
    pub fn kind(&self) -> MetadataType {
        match self {
            Component::ConnectedApp(_) => MetadataType::ConnectedApp,
            Component::ExternalClientApplication(_) => MetadataType::ExternalClientApplication,
            Component::ExtlClntAppGlobalOauthSettings(_) => {
                MetadataType::ExtlClntAppGlobalOauthSettings
            }
            Component::ExtlClntAppOauthSettings(_) => MetadataType::ExtlClntAppOauthSettings,
            Component::ExtlClntAppOauthConfigurablePolicies(_) => {
                MetadataType::ExtlClntAppOauthConfigurablePolicies
            }
            Component::ExtlClntAppConfigurablePolicies(_) => {
                MetadataType::ExtlClntAppConfigurablePolicies
            }
            Component::PermissionSet(_) => MetadataType::PermissionSet,
        }
    }

    /// The component as a metadata file: XML declaration, root element in the metadata
    /// namespace, elements in the schema's order, four-space indentation.
    pub fn to_xml(&self) -> Result<String> {
        let root = self.kind().name();
        match self {
            Component::ConnectedApp(c) => xml::write(root, c),
            Component::ExternalClientApplication(c) => xml::write(root, c),
            Component::ExtlClntAppGlobalOauthSettings(c) => xml::write(root, c),
            Component::ExtlClntAppOauthSettings(c) => xml::write(root, c),
            Component::ExtlClntAppOauthConfigurablePolicies(c) => xml::write(root, c),
            Component::ExtlClntAppConfigurablePolicies(c) => xml::write(root, c),
            Component::PermissionSet(c) => xml::write(root, c),
        }
    }

    /// Read a metadata file of type `kind`: the element names, their order, the required
    /// elements, the enumeration values and the API version of each element are checked
    /// (see [`ReadOptions`]); the first problem is returned with its position.
    pub fn from_xml(
        kind: MetadataType,
        src: &[u8],
        opts: &ReadOptions,
    ) -> std::result::Result<Component, Problem> {
        let root = kind.name();
        let fields = kind.fields();
        Ok(match kind {
            MetadataType::ConnectedApp => {
                Component::ConnectedApp(xml::read(root, fields, src, opts)?)
            }
            MetadataType::ExternalClientApplication => {
                Component::ExternalClientApplication(xml::read(root, fields, src, opts)?)
            }
            MetadataType::ExtlClntAppGlobalOauthSettings => {
                Component::ExtlClntAppGlobalOauthSettings(xml::read(root, fields, src, opts)?)
            }
            MetadataType::ExtlClntAppOauthSettings => {
                Component::ExtlClntAppOauthSettings(xml::read(root, fields, src, opts)?)
            }
            MetadataType::ExtlClntAppOauthConfigurablePolicies => {
                Component::ExtlClntAppOauthConfigurablePolicies(xml::read(root, fields, src, opts)?)
            }
            MetadataType::ExtlClntAppConfigurablePolicies => {
                Component::ExtlClntAppConfigurablePolicies(xml::read(root, fields, src, opts)?)
            }
            MetadataType::PermissionSet => {
                Component::PermissionSet(xml::read(root, fields, src, opts)?)
            }
        })
    }

    /// The External Client App header an ECA component links to
    /// (`externalClientApplication`); `None` for other types.
    pub fn external_client_application(&self) -> Option<&str> {
        match self {
            Component::ExtlClntAppGlobalOauthSettings(c) => Some(&c.external_client_application),
            Component::ExtlClntAppOauthSettings(c) => Some(&c.external_client_application),
            Component::ExtlClntAppOauthConfigurablePolicies(c) => {
                Some(&c.external_client_application)
            }
            Component::ExtlClntAppConfigurablePolicies(c) => Some(&c.external_client_application),
            _ => None,
        }
    }
}

/// The manifest of a deploy (`package.xml`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    /// The members of each type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<PackageTypeMembers>,
    /// The API version the files are written for, e.g. `62.0`.
    pub version: String,
}

/// One `<types>` of a manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageTypeMembers {
    /// Full names, or `*` for every file of the type in the zip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The type name (kept as text: an unknown type is the deploy's failure to report).
    pub name: String,
}

const PACKAGE_FIELDS: &[Field] = &[
    text("fullName"),
    text("apiAccessLevel"),
    text("description"),
    text("namespacePrefix"),
    super::xml::opaque("objectPermissions").many(),
    text("packageType"),
    text("postInstallClass"),
    super::xml::opaque("setupWeblink").many(),
    Field::new(
        "types",
        Kind::Nested("PackageTypeMembers", TYPE_MEMBERS_FIELDS),
    )
    .many(),
    text("uninstallClass"),
    text("version").required(),
];

const TYPE_MEMBERS_FIELDS: &[Field] = &[text("members").many(), text("name").required()];

impl Package {
    /// A manifest for API version `major`.0 with no types yet.
    pub fn new(api_version: u32) -> Self {
        Package {
            types: Vec::new(),
            version: format!("{api_version}.0"),
        }
    }

    /// Add `full_name` of type `kind` (keeping types and members sorted, as Salesforce's
    /// tools write them).
    pub fn add(&mut self, kind: MetadataType, full_name: &str) {
        let t = match self.types.iter_mut().position(|t| t.name == kind.name()) {
            Some(i) => &mut self.types[i],
            None => {
                self.types.push(PackageTypeMembers {
                    members: Vec::new(),
                    name: kind.name().to_owned(),
                });
                self.types.sort_by(|a, b| a.name.cmp(&b.name));
                let i = self
                    .types
                    .iter()
                    .position(|t| t.name == kind.name())
                    .unwrap_or(0);
                &mut self.types[i]
            }
        };
        if !t.members.iter().any(|m| m == full_name) {
            t.members.push(full_name.to_owned());
            t.members.sort();
        }
    }

    /// The API version's major number (`62.0` → 62), when it is one.
    pub fn api_major(&self) -> Option<u32> {
        let v = self.version.trim();
        let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
        if minor != "0" {
            return None;
        }
        major.parse().ok()
    }

    /// The manifest as XML.
    pub fn to_xml(&self) -> Result<String> {
        xml::write("Package", self)
    }

    /// Read a manifest (element names, order and required elements checked).
    pub fn from_xml(src: &[u8]) -> std::result::Result<Package, Problem> {
        xml::read("Package", PACKAGE_FIELDS, src, &ReadOptions::default())
    }
}

/// Salesforce's rule for API names (`fullName` of a component): letters, digits and
/// underscores; begins with a letter; does not end with an underscore; no two underscores
/// in a row. The error text is Salesforce's UI message.
pub fn check_full_name(name: &str) -> std::result::Result<(), Problem> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__")
        && name.len() <= 80;
    if ok {
        Ok(())
    } else {
        Err(Problem::new(format!(
            "The API name '{}' can only contain underscores and alphanumeric characters. It must be unique, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.",
            crate::text::escape(name)
        )))
    }
}

/// Salesforce's rule for a consumer key chosen by the deployer (`consumerKey`, API 32.0+):
/// "The value must be alphanumeric, can't contain special characters or spaces, and must
/// be between 8–256 characters."
pub fn check_consumer_key(key: &str) -> std::result::Result<(), Problem> {
    if (8..=256).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Problem::new(
            "The consumer key must be alphanumeric, can't contain special characters or spaces, and must be between 8 and 256 characters.",
        ))
    }
}

/// The emulator's rule for a consumer key chosen by the deployer of an External Client App
/// (`ExtlClntAppGlobalOauthSettings/consumerKey`): 8 to 256 printable ASCII characters, no
/// spaces. Salesforce documents no rule for ECA keys (the help page on the global OAuth
/// settings says only that the field is optional). Unlike the connected app's rule
/// ([`check_consumer_key`]) it allows punctuation, since a working third-party tool
/// (sfdx-hardis) deploys keys of 119 base64 characters, `+` and `/` included. The lengths
/// are the connected app's, assumed; the error text is the emulator's. certmint itself
/// generates alphanumeric keys, which pass both rules.
pub fn check_eca_consumer_key(key: &str) -> std::result::Result<(), Problem> {
    if (8..=256).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Problem::new(
            "The consumer key must be between 8 and 256 printable ASCII characters, without spaces.",
        ))
    }
}
