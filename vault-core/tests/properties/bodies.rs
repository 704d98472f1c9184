//! Request bodies: arbitrary bytes and arbitrary JSON into the decoder of every request type
//! are a value or the contract's 400; decoded values taken on by the services are an answer or
//! a 4xx, never a server error, on both databases.

use std::fmt::Debug;

use http::{header, HeaderMap, HeaderValue};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use vault_core::auth::{
    ChangePasswordRequest, DeleteAccountRequest, LoginRequest, PasswordGrant, RefreshRequest,
    RegisterRequest, TokenRequest, UpdateMeRequest,
};
use vault_core::resources::{ResourceInput, ResourcePatch, TagInput};
use vault_core::testkit::Backend;
use vault_core::wire::decode_json;
use vault_core::Error;

use super::{check, hostile_text, is_client_error, on_both_databases, runtime, World};

/// Any JSON value, a few levels deep, with hostile strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_text().prop_map(Value::from),
        proptest::sample::select(&["note", "link", "file", "reference", "https://e.example/"][..])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{0,8}", inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A JSON object written out by hand, so that members may repeat: names mostly the type's
/// own fields, values anything.
fn object_text(fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        4 => proptest::sample::select(fields).prop_map(str::to_string),
        1 => hostile_text(),
    ];
    proptest::collection::vec((name, json_value()), 0..8).prop_map(|members| {
        let members: Vec<String> = members
            .into_iter()
            .map(|(name, value)| format!("{}:{value}", Value::from(name)))
            .collect();
        format!("{{{}}}", members.join(",")).into_bytes()
    })
}

/// Bodies for a type with these fields: its objects, other JSON, broken JSON, deep nesting,
/// raw bytes.
fn body(fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => object_text(fields),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => (object_text(fields), any::<usize>(), any::<u8>()).prop_map(|(mut text, at, byte)| {
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = byte;
            }
            text
        }),
        1 => (object_text(fields), any::<usize>()).prop_map(|(mut text, keep)| {
            text.truncate(keep % (text.len() + 1));
            text
        }),
        1 => (0usize..400, proptest::sample::select(&["[", "{\"a\":", "{\"title\":["][..]))
            .prop_map(|(depth, open)| open.repeat(depth).into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// Well-typed bodies for a type with these fields: each field present or not, with a value
/// of the type it expects (strings hostile), so that the services' own checks are reached.
fn typed_body(fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let value = |field: &str| -> BoxedStrategy<Value> {
        match field {
            "kind" => proptest::sample::select(&["note", "link", "file", "reference"][..])
                .prop_map(Value::from)
                .boxed(),
            "favorite" => any::<bool>().prop_map(Value::from).boxed(),
            "tags" => proptest::collection::vec(hostile_text(), 0..25)
                .prop_map(Value::from)
                .boxed(),
            "url" => prop_oneof![
                hostile_text(),
                hostile_text().prop_map(|t| format!("https://{t}")),
                hostile_text().prop_map(|t| format!("http://e.example/{t}")),
            ]
            .prop_map(Value::from)
            .boxed(),
            "email" => prop_oneof![
                hostile_text(),
                (hostile_text(), hostile_text()).prop_map(|(a, b)| format!("{a}@{b}.example")),
            ]
            .prop_map(Value::from)
            .boxed(),
            _ => hostile_text().prop_map(Value::from).boxed(),
        }
    };
    let members: Vec<_> = fields
        .iter()
        .map(|field| proptest::option::weighted(0.8, value(field)).prop_map(move |v| (*field, v)))
        .collect();
    members.prop_map(|members| {
        let object: serde_json::Map<String, Value> = members
            .into_iter()
            .filter_map(|(field, value)| Some((field.to_string(), value?)))
            .collect();
        Value::Object(object).to_string().into_bytes()
    })
}

/// `decode_json::<T>` of any body is a value or a 400 problem (`parse_error` or
/// `validation_error`).
fn decodes_or_400<T: DeserializeOwned + Debug>(bytes: &[u8]) -> Result<Option<T>, TestCaseError> {
    match decode_json::<T>(bytes) {
        Ok(value) => Ok(Some(value)),
        Err(error @ (Error::Parse(_) | Error::Validation(_))) => {
            is_client_error(&error)?;
            prop_assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!("{other:?}"))),
    }
}

const REGISTER: &[&str] = &["username", "email", "password", "display_name"];
const LOGIN: &[&str] = &["username", "password"];
const REFRESH: &[&str] = &["refresh"];
const UPDATE_ME: &[&str] = &["email", "display_name"];
const CHANGE_PASSWORD: &[&str] = &["current_password", "new_password"];
const DELETE_ACCOUNT: &[&str] = &["password"];
const RESOURCE: &[&str] = &["kind", "title", "body", "url", "tags", "favorite"];
const TAG: &[&str] = &["name"];

macro_rules! decoder_properties {
    ($($name:ident: $type:ty, $fields:expr;)*) => {$(
        /// Any body into this request type's decoder: a value or the contract's 400.
        #[test]
        fn $name() {
            check(1024, body($fields), |bytes| decodes_or_400::<$type>(&bytes).map(drop));
        }
    )*};
}

decoder_properties! {
    register_bodies_decode_or_400: RegisterRequest, REGISTER;
    login_bodies_decode_or_400: LoginRequest, LOGIN;
    refresh_bodies_decode_or_400: RefreshRequest, REFRESH;
    update_me_bodies_decode_or_400: UpdateMeRequest, UPDATE_ME;
    change_password_bodies_decode_or_400: ChangePasswordRequest, CHANGE_PASSWORD;
    delete_account_bodies_decode_or_400: DeleteAccountRequest, DELETE_ACCOUNT;
    resource_bodies_decode_or_400: ResourceInput, RESOURCE;
    resource_patch_bodies_decode_or_400: ResourcePatch, RESOURCE;
    tag_bodies_decode_or_400: TagInput, TAG;
}

/// Form bodies of the OAuth2 password grant: any pairs (known names or not, repeated or not)
/// or raw bytes.
fn form_body() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        4 => proptest::sample::select(
            &["grant_type", "username", "password", "scope", "client_id", "client_secret"][..]
        )
        .prop_map(str::to_string),
        1 => hostile_text(),
    ];
    let value = prop_oneof![Just("password".to_string()), hostile_text()];
    prop_oneof![
        4 => proptest::collection::vec((name, value), 0..8).prop_map(|pairs| {
            let mut out = form_urlencoded::Serializer::new(String::new());
            for (name, value) in pairs {
                out.append_pair(&name, &value);
            }
            out.finish().into_bytes()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => "([a-z_]{0,10}=?[%0-9A-Fa-z+&=]{0,12}&?){0,6}".prop_map(String::into_bytes),
    ]
}

/// `POST /auth/token` bodies under any declared media type: a login request or a 4xx (400
/// for the body, 415 for the media type).
#[test]
fn token_requests_decode_or_4xx() {
    let content_type = prop_oneof![
        Just(None),
        proptest::sample::select(
            &[
                "application/json",
                "application/json; charset=utf-8",
                "application/vnd.api+json",
                "application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded; charset=latin1",
                "multipart/form-data; boundary=x",
                "text/plain",
                "application/",
                "*/*",
            ][..]
        )
        .prop_map(|t| Some(t.to_string())),
        "[ -~]{0,40}".prop_map(Some),
    ];
    let bodies = prop_oneof![body(LOGIN), form_body()];
    check(2048, (content_type, bodies), |(content_type, bytes)| {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        if let Err(error) = TokenRequest::decode(&headers, &bytes) {
            is_client_error(&error)?;
        }
        if let Err(error) = PasswordGrant::from_form(&bytes) {
            prop_assert!(matches!(error, Error::Validation(_)), "{error:?}");
            is_client_error(&error)?;
        }
        Ok(())
    });
}

on_both_databases! {
    /// Decoded bodies taken on by the services: resources created, patched and replaced, tags
    /// created and renamed, the account changed, registrations and logins: each an answer or a
    /// 4xx problem, never a server error, on SQLite and PostgreSQL alike.
    services_answer_decoded_bodies_or_4xx => super::services_on;
}

fn services_on(backend: Backend) {
    let runtime = runtime();
    let (world, resource, tag) = runtime.block_on(async {
        let world = World::open(backend, |_| {}).await;
        let resources = world.vault.resources();
        let input = decode_json(br#"{"kind":"note","title":"target","tags":["x"]}"#)
            .expect("a valid resource");
        let resource = resources
            .create(&world.caller, input)
            .await
            .expect("created");
        let tag = resources
            .create_tag(
                &world.caller,
                TagInput {
                    name: "target".into(),
                },
            )
            .await
            .expect("created");
        (world, resource.id.to_string(), tag.id.to_string())
    });
    let either = |fields| prop_oneof![3 => typed_body(fields), 1 => body(fields)];
    let cases = (
        either(RESOURCE),
        either(TAG),
        either(UPDATE_ME),
        either(REGISTER),
        either(LOGIN),
    );
    check(
        96,
        cases,
        |(resource_body, tag_body, me_body, register_body, login_body)| {
            let resources = world.vault.resources();
            let auth = world.vault.auth();
            let caller = &world.caller;
            let mut errors = Vec::new();
            runtime.block_on(async {
                if let Some(input) = decodes_or_400::<ResourceInput>(&resource_body)? {
                    errors.extend(resources.create(caller, input).await.err());
                }
                if let Some(input) = decodes_or_400::<ResourceInput>(&resource_body)? {
                    errors.extend(resources.replace(caller, &resource, input).await.err());
                }
                if let Some(patch) = decodes_or_400::<ResourcePatch>(&resource_body)? {
                    errors.extend(resources.patch(caller, &resource, patch).await.err());
                }
                if let Some(input) = decodes_or_400::<TagInput>(&tag_body)? {
                    errors.extend(resources.create_tag(caller, input).await.err());
                }
                if let Some(input) = decodes_or_400::<TagInput>(&tag_body)? {
                    errors.extend(resources.rename_tag(caller, &tag, input).await.err());
                }
                if let Some(request) = decodes_or_400::<UpdateMeRequest>(&me_body)? {
                    errors.extend(auth.update_me(caller, request).await.err());
                }
                if let Some(request) = decodes_or_400::<RegisterRequest>(&register_body)? {
                    errors.extend(auth.register(request, None).await.err());
                }
                if let Some(request) = decodes_or_400::<LoginRequest>(&login_body)? {
                    let login = auth.login(&request.username, &request.password, None).await;
                    errors.extend(login.err());
                }
                Ok::<_, TestCaseError>(())
            })?;
            for error in &errors {
                is_client_error(error)?;
            }
            Ok(())
        },
    );
    runtime.block_on(world.vault.database().close());
}
