//! The metadata component types a JWT bearer integration deploys: `ConnectedApp`, the five
//! External Client App types, and `PermissionSet`. Each struct's fields are declared in the
//! schema's element order (alphabetical after `fullName`, as in the Metadata API WSDL), so
//! [`super::Component::to_xml`] writes them in that order; each has a field table (`FIELDS`)
//! that reading checks the file against (element names, order, required elements, enum
//! values, the API version of each element). Elements the schema has and these types do not
//! model are accepted on reading and not kept.
//!
//! Sources: Salesforce's Metadata API reference pages for ConnectedApp (API 67.0),
//! ExternalClientApplication, ExtlClntAppGlobalOauthSettings, ExtlClntAppOauthSettings,
//! ExtlClntAppOauthConfigurablePolicies, ExtlClntAppConfigurablePolicies and PermissionSet;
//! `docs/emulator.md` lists what is inferred.

use serde::{Deserialize, Serialize};

use super::enums::{
    DistributionState, IpRelaxation, IpRelaxationPolicyType, OauthScope, PermittedUsersPolicyType,
    RefreshTokenPolicyType, RefreshTokenValidityUnit, SessionLevel,
};
use super::xml::{Field, Kind, boolean, comma_list, comma_names, opaque, text};

const fn int(name: &'static str) -> Field {
    Field::new(name, Kind::Int)
}

macro_rules! enum_field {
    ($name:literal, $t:ty) => {
        Field::new($name, Kind::Enum(<$t>::SCHEMA_NAME, <$t>::NAMES))
    };
}

/// `ConnectedApp` (`connectedApps/<name>.connectedApp`, API 29.0+).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedApp {
    /// Contact email (required).
    pub contact_email: String,
    /// Contact phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Info URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_url: Option<String>,
    /// The app's name (required).
    pub label: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// OAuth settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_config: Option<ConnectedAppOauthConfig>,
    /// OAuth policies (API 49.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_policy: Option<ConnectedAppOauthPolicy>,
    /// Pre-authorized permission sets (API 46.0+; needs `isAdminApproved`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permission_set_name: Vec<String>,
    /// Pre-authorized profiles, by name (API 46.0+; needs `isAdminApproved`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_name: Vec<String>,
    /// Session policy (API 49.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<ConnectedAppSessionPolicy>,
    /// Start URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
}

impl ConnectedApp {
    /// The element table of `ConnectedApp`.
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        opaque("attributes").many(),
        opaque("canvas"),
        opaque("canvasConfig"),
        text("contactEmail").required(),
        text("contactPhone"),
        text("description"),
        text("iconUrl"),
        text("infoUrl"),
        opaque("ipRanges").many(),
        text("label").required(),
        text("logoUrl"),
        opaque("mobileAppConfig"),
        text("mobileStartUrl"),
        Field::new(
            "oauthConfig",
            Kind::Nested("ConnectedAppOauthConfig", ConnectedAppOauthConfig::FIELDS),
        ),
        Field::new(
            "oauthPolicy",
            Kind::Nested("ConnectedAppOauthPolicy", ConnectedAppOauthPolicy::FIELDS),
        )
        .since(49),
        text("permissionSetName").many().since(46),
        opaque("plugin"),
        text("pluginExecutionUser"),
        text("profileName").many().since(46),
        opaque("samlConfig"),
        Field::new(
            "sessionPolicy",
            Kind::Nested(
                "ConnectedAppSessionPolicy",
                ConnectedAppSessionPolicy::FIELDS,
            ),
        )
        .since(49),
        text("startUrl"),
    ];
}

/// `ConnectedApp/oauthConfig` (`ConnectedAppOauthConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedAppOauthConfig {
    /// The OAuth redirect URI (required; the JWT flow does not use it).
    pub callback_url: String,
    /// The PEM certificate whose key signs the JWT bearer assertions (armored PEM or the
    /// bare base64 body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The consumer key (`iss`): settable only at creation, 8 to 256 alphanumerics,
    /// globally unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key: Option<String>,
    /// The consumer secret (settable only at creation; never read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_secret: Option<String>,
    /// "Admin approved users are pre-authorized" (API 46.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin_approved: Option<bool>,
    /// Client credentials flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_client_credential_enabled: Option<bool>,
    /// The web server flow may omit the secret (API 49.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_consumer_secret_optional: Option<bool>,
    /// JWT-format access tokens (API 59.0+; not the JWT bearer flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_named_user_jwt_enabled: Option<bool>,
    /// PKCE required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pkce_required: Option<bool>,
    /// The run-as user of the client credentials flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client_credential_user: Option<String>,
    /// OAuth scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<OauthScope>,
}

impl ConnectedAppOauthConfig {
    pub(crate) const FIELDS: &'static [Field] = &[
        opaque("assetTokenConfig"),
        text("callbackUrl").required(),
        text("certificate"),
        text("consumerKey"),
        text("consumerSecret"),
        opaque("idTokenConfig"),
        boolean("isAdminApproved").since(46),
        boolean("isClientCredentialEnabled").since(56),
        boolean("isCodeCredentialEnabled"),
        boolean("isCodeCredentialPostOnly"),
        boolean("isConsumerSecretOptional").since(49),
        boolean("isIntrospectAllTokens"),
        boolean("isNamedUserJwtEnabled").since(59),
        boolean("isPkceRequired"),
        boolean("isRefreshTokenRotationEnabled"),
        boolean("isSecretRequiredForRefreshToken"),
        boolean("isSecretRequiredForTokenExchange"),
        boolean("isTokenExchangeEnabled"),
        text("oauthClientCredentialUser").since(56),
        enum_field!("scopes", OauthScope).many(),
        text("singleLogoutUrl"),
    ];
}

/// `ConnectedApp/oauthPolicy` (`ConnectedAppOauthPolicy`, API 49.0+).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedAppOauthPolicy {
    /// IP relaxation (required).
    pub ip_relaxation: IpRelaxation,
    /// `zero`, `infinite`, `specific_lifetime:<n>:HOURS|DAYS|MONTHS` or
    /// `specific_inactivity:<n>:…` (required).
    pub refresh_token_policy: String,
    /// Single logout URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_logout_url: Option<String>,
}

impl ConnectedAppOauthPolicy {
    pub(crate) const FIELDS: &'static [Field] = &[
        enum_field!("ipRelaxation", IpRelaxation).required(),
        text("refreshTokenPolicy").required(),
        text("singleLogoutUrl"),
    ];
}

/// `ConnectedApp/sessionPolicy` (`ConnectedAppSessionPolicy`, API 49.0+).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedAppSessionPolicy {
    /// What happens at a high-assurance requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_action: Option<String>,
    /// Required session level (`HIGH_ASSURANCE` blocks JWT logins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_level: Option<SessionLevel>,
    /// Session timeout, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout: Option<u32>,
}

impl ConnectedAppSessionPolicy {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("policyAction"),
        enum_field!("sessionLevel", SessionLevel),
        int("sessionTimeout"),
    ];
}

/// `ExternalClientApplication` (`externalClientApps/<name>.eca`, API 59.0+): the header
/// the other four types link to by `externalClientApplication`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalClientApplication {
    /// Contact email (required here, as for a connected app: inferred).
    pub contact_email: String,
    /// Contact phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Local` or `Packaged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_state: Option<DistributionState>,
    /// Info URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_url: Option<String>,
    /// Protected (managed packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_protected: Option<bool>,
    /// The app's name (required).
    pub label: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `<OrgId>:<AppName>` (generated when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_scoped_external_app: Option<String>,
}

impl ExternalClientApplication {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("contactEmail").required(),
        text("contactPhone"),
        text("description"),
        enum_field!("distributionState", DistributionState),
        text("iconUrl"),
        text("infoUrl"),
        boolean("isProtected"),
        text("label").required(),
        text("logoUrl"),
        text("orgScopedExternalApp"),
    ];
}

/// `ExtlClntAppGlobalOauthSettings` (`extlClntAppGlobalOauthSets/<name>.ecaGlblOauth`, API
/// 59.0+): the certificate, consumer key and callback URL. Not packageable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppGlobalOauthSettings {
    /// The OAuth redirect URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The PEM certificate; "when provided, it enables the JWT Bearer flow" (API 60.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The consumer key (set at creation; letters and digits only is the safe choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_key: Option<String>,
    /// The consumer secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_secret: Option<String>,
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// Client credentials flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_client_credentials_flow_enabled: Option<bool>,
    /// The web server flow may omit the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_consumer_secret_optional: Option<bool>,
    /// Device flow (API 60.0+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_device_flow_enabled: Option<bool>,
    /// PKCE required (Salesforce's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_pkce_required: Option<bool>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Rotate the consumer key (needs `ignoreWarnings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_rotate_consumer_key: Option<bool>,
    /// Rotate the consumer secret (needs `ignoreWarnings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_rotate_consumer_secret: Option<bool>,
}

impl ExtlClntAppGlobalOauthSettings {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("callbackUrl"),
        text("certificate").since(60),
        text("consumerKey"),
        text("consumerSecret"),
        text("externalClientApplication").required(),
        opaque("idTokenConfig"),
        boolean("isClientCredentialsFlowEnabled"),
        boolean("isConsumerSecretOptional"),
        boolean("isDeviceFlowEnabled").since(60),
        boolean("isIntrospectAllTokens"),
        boolean("isNamedUserJwtEnabled").since(61),
        boolean("isPkceRequired"),
        boolean("isRefreshTokenRotationEnabled"),
        boolean("isSecretRequiredForRefreshToken"),
        boolean("isTokenExchangeEnabled"),
        text("label"),
        boolean("shouldRotateConsumerKey"),
        boolean("shouldRotateConsumerSecret"),
    ];
}

/// `ExtlClntAppOauthSettings` (`extlClntAppOauthSettings/<name>.ecaOauth`, API 59.0+): the
/// scopes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppOauthSettings {
    /// Scopes, written `Api, Web, RefreshToken`.
    #[serde(default, with = "comma_list", skip_serializing_if = "Vec::is_empty")]
    pub comma_separated_oauth_scopes: Vec<OauthScope>,
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ExtlClntAppOauthSettings {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        Field::new(
            "commaSeparatedOauthScopes",
            Kind::EnumList(OauthScope::SCHEMA_NAME, OauthScope::NAMES),
        ),
        opaque("customAttributes").many(),
        text("externalClientApplication").required(),
        text("label"),
        text("oauthLink"),
        opaque("trustedIpRanges").many(),
    ];
}

/// `ExtlClntAppOauthConfigurablePolicies` (`extlClntAppOauthPolicies/<name>.ecaOauthPlcy`,
/// API 59.0+): who may use the app (admin approval and pre-authorization).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppOauthConfigurablePolicies {
    /// Pre-authorized permission sets (names or ids).
    #[serde(default, with = "comma_names", skip_serializing_if = "Vec::is_empty")]
    pub comma_separated_permission_set: Vec<String>,
    /// Pre-authorized profiles, by name.
    #[serde(default, with = "comma_names", skip_serializing_if = "Vec::is_empty")]
    pub comma_separated_profile: Vec<String>,
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// IP relaxation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_relaxation_policy_type: Option<IpRelaxationPolicyType>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Permitted users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted_users_policy_type: Option<PermittedUsersPolicyType>,
    /// Refresh token policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_policy_type: Option<RefreshTokenPolicyType>,
    /// Refresh token validity period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity_period: Option<u32>,
    /// Refresh token validity unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity_unit: Option<RefreshTokenValidityUnit>,
    /// Required session level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_session_level: Option<SessionLevel>,
    /// Session timeout for opaque tokens, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_timeout_in_minutes: Option<u32>,
}

impl ExtlClntAppOauthConfigurablePolicies {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("clientCredentialsFlowUser"),
        text("commaSeparatedPermissionSet"),
        text("commaSeparatedProfile"),
        text("externalClientApplication").required(),
        enum_field!("ipRelaxationPolicyType", IpRelaxationPolicyType),
        boolean("isNamedUserJwtEnabled"),
        text("label"),
        int("namedUserJwtTimeout"),
        enum_field!("permittedUsersPolicyType", PermittedUsersPolicyType),
        text("policyAction"),
        enum_field!("refreshTokenPolicyType", RefreshTokenPolicyType),
        int("refreshTokenValidityPeriod"),
        enum_field!("refreshTokenValidityUnit", RefreshTokenValidityUnit),
        enum_field!("requiredSessionLevel", SessionLevel),
        int("sessionTimeoutInMinutes"),
    ];
}

/// `ExtlClntAppConfigurablePolicies` (`extlClntAppPolicies/<name>.ecaPlcy`, API 60.0+): the
/// plugin switches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtlClntAppConfigurablePolicies {
    /// The header this belongs to (required).
    pub external_client_application: String,
    /// The app is enabled (required).
    pub is_enabled: bool,
    /// The OAuth plugin is enabled (Salesforce's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_oauth_plugin_enabled: Option<bool>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ExtlClntAppConfigurablePolicies {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        text("externalClientApplication").required(),
        boolean("isEnabled").required(),
        boolean("isOauthPluginEnabled"),
        boolean("isPushPluginEnabled"),
        boolean("isSamlPluginEnabled"),
        text("label"),
        text("startPage"),
        text("startUrl"),
    ];
}

/// `PermissionSet` (`permissionsets/<name>.permissionset`): the parts an integration user's
/// permission set needs. Object, field, class and tab settings are accepted and not kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSet {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Session activation required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_activation_required: Option<bool>,
    /// Label (required).
    pub label: String,
    /// License.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// User permissions (`ApiEnabled`, `ModifyAllData`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_permissions: Vec<PermissionSetUserPermission>,
}

impl PermissionSet {
    pub(crate) const FIELDS: &'static [Field] = &[
        text("fullName"),
        opaque("applicationVisibilities").many(),
        opaque("classAccesses").many(),
        opaque("customMetadataTypeAccesses").many(),
        opaque("customPermissions").many(),
        opaque("customSettingAccesses").many(),
        text("description"),
        opaque("externalCredentialPrincipalAccesses").many(),
        opaque("externalDataSourceAccesses").many(),
        opaque("fieldPermissions").many(),
        opaque("flowAccesses").many(),
        boolean("hasActivationRequired"),
        text("label").required(),
        text("license"),
        opaque("objectPermissions").many(),
        opaque("pageAccesses").many(),
        opaque("recordTypeVisibilities").many(),
        opaque("tabSettings").many(),
        Field::new(
            "userPermissions",
            Kind::Nested(
                "PermissionSetUserPermission",
                PermissionSetUserPermission::FIELDS,
            ),
        )
        .many(),
    ];
}

/// `PermissionSet/userPermissions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSetUserPermission {
    /// Granted.
    pub enabled: bool,
    /// The permission's API name, e.g. `ApiEnabled`.
    pub name: String,
}

impl PermissionSetUserPermission {
    pub(crate) const FIELDS: &'static [Field] =
        &[boolean("enabled").required(), text("name").required()];
}
