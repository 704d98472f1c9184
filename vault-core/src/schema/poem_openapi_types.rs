//! poem-openapi schemas for the core types its derives cannot describe: a [`Patch`] field
//! (absent, `null` or a value), the generic [`Page`], the [`Problem`] (its `status` is an
//! `http::StatusCode`), and the binary [`FileUpload`]. Every other model type derives
//! `poem_openapi::Object` or `Enum` where it is defined.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value as JsonValue;

use super::FileUpload;
use crate::error::Problem;
use crate::page::Page;
use crate::wire::Patch;

/// `schema` with a description (and `nullable`), as poem-openapi's derives describe fields.
fn field(schema: MetaSchemaRef, description: &'static str, nullable: bool) -> MetaSchemaRef {
    schema.merge(MetaSchema {
        description: Some(description),
        nullable,
        ..MetaSchema::ANY
    })
}

fn inline(schema: MetaSchema) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(schema))
}

/// A patch field is documented as its value type, optional (absent: unchanged).
impl<T: Type> Type for Patch<T> {
    const IS_REQUIRED: bool = false;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("optional_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        match self {
            Self::Value(value) => value.as_raw_value(),
            Self::Missing | Self::Null => None,
        }
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match self {
            Self::Value(value) => value.raw_element_iter(),
            Self::Missing | Self::Null => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        !matches!(self, Self::Value(_))
    }
}

/// The same three cases as the serde decoding the core uses.
impl<T: ParseFromJSON> ParseFromJSON for Patch<T> {
    fn parse_from_json(value: Option<JsonValue>) -> ParseResult<Self> {
        match value {
            None => Ok(Self::Missing),
            Some(JsonValue::Null) => Ok(Self::Null),
            Some(value) => T::parse_from_json(Some(value))
                .map(Self::Value)
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Patch<T> {
    fn to_json(&self) -> Option<JsonValue> {
        match self {
            Self::Missing => None,
            Self::Null => Some(JsonValue::Null),
            Self::Value(value) => value.to_json(),
        }
    }
}

/// `Page_{T}` (`Page_Resource`, `Page_Tag`), with `T`'s schema inline in `results`: the name
/// and the shape utoipa gives the same generic, so both adapters' documents agree.
impl<T: Type> Type for Page<T> {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        format!("Page_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |registry| {
            T::register(registry);
            MetaSchema {
                description: Some("One page of a list, as every list endpoint answers."),
                required: vec!["count", "results"],
                properties: vec![
                    (
                        "count",
                        field(
                            u64::schema_ref(),
                            "Total number of items over all pages.",
                            false,
                        ),
                    ),
                    (
                        "next",
                        field(
                            String::schema_ref(),
                            "Link to the next page, `null` on the last.",
                            true,
                        ),
                    ),
                    (
                        "previous",
                        field(
                            String::schema_ref(),
                            "Link to the previous page, `null` on the first.",
                            true,
                        ),
                    ),
                    (
                        "results",
                        field(
                            inline(MetaSchema {
                                items: Some(Box::new(inline(registry.create_fake_schema::<T>()))),
                                ..MetaSchema::new("array")
                            }),
                            "This page's items.",
                            false,
                        ),
                    ),
                ],
                ..MetaSchema::new("object")
            }
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

/// The wire form of [`Problem::to_response`]: `type` is always `about:blank`, and `code` a
/// plain string (clients match on its value, the list of codes grows).
impl Type for Problem {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "Problem".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        let example = |schema: MetaSchema, value: serde_json::Value| MetaSchema {
            example: Some(value),
            ..schema
        };
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
            description: Some(
                "An RFC 9457 problem document, extended with the contract's `detail`, `code` and `errors`.",
            ),
            required: vec!["status", "title", "detail", "code"],
            properties: vec![
                (
                    "status",
                    field(
                        inline(example(
                            MetaSchema::new_with_format("integer", "int32"),
                            400.into(),
                        )),
                        "HTTP status code.",
                        false,
                    ),
                ),
                (
                    "title",
                    field(
                        inline(example(MetaSchema::new("string"), "Bad Request".into())),
                        "The status's reason phrase.",
                        false,
                    ),
                ),
                (
                    "detail",
                    field(
                        inline(example(MetaSchema::new("string"), "Invalid input.".into())),
                        "Human-readable explanation (what clients of the DRF originals read).",
                        false,
                    ),
                ),
                (
                    "code",
                    field(
                        inline(example(
                            MetaSchema::new("string"),
                            "validation_error".into(),
                        )),
                        "Stable machine-readable code.",
                        false,
                    ),
                ),
                (
                    "errors",
                    field(
                        inline(MetaSchema {
                            additional_properties: Some(Box::new(Vec::<String>::schema_ref())),
                            ..MetaSchema::new("object")
                        }),
                        "Field name → messages, on validation errors and uniqueness clashes.",
                        true,
                    ),
                ),
            ],
            ..MetaSchema::new("object")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

/// One binary part named `file` (`Vec<u8>` is an array of integers to poem-openapi).
impl Type for FileUpload {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "FileUpload".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| MetaSchema {
            description: Some("The multipart body of PUT /resources/{id}/file."),
            required: vec!["file"],
            properties: vec![(
                "file",
                field(
                    inline(MetaSchema::new_with_format("string", "binary")),
                    "The file (one part named `file`).",
                    false,
                ),
            )],
            ..MetaSchema::new("object")
        });
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_absent_null_and_value_apart() {
        assert_eq!(
            Patch::<String>::parse_from_json(None).ok(),
            Some(Patch::Missing)
        );
        assert_eq!(
            Patch::<String>::parse_from_json(Some(JsonValue::Null)).ok(),
            Some(Patch::Null)
        );
        assert_eq!(
            Patch::<String>::parse_from_json(Some("x".into())).ok(),
            Some(Patch::Value("x".to_string()))
        );
        assert!(Patch::<bool>::parse_from_json(Some("yes".into())).is_err());
        assert_eq!(Patch::<String>::Missing.to_json(), None);
        assert_eq!(Patch::<String>::Null.to_json(), Some(JsonValue::Null));
        assert_eq!(Patch::Value(true).to_json(), Some(JsonValue::Bool(true)));
        const { assert!(!Patch::<bool>::IS_REQUIRED) };
    }

    #[test]
    fn generic_pages_are_named_like_utoipa_names_them() {
        let mut registry = Registry::new();
        Page::<crate::resources::Resource>::register(&mut registry);
        let page = registry
            .schemas
            .get("Page_Resource")
            .expect("Page_Resource");
        assert_eq!(page.required, vec!["count", "results"]);
        assert!(registry.schemas.contains_key("Resource"));
        assert_eq!(
            Page::<crate::resources::Tag>::schema_ref(),
            MetaSchemaRef::Reference("Page_Tag".into())
        );
    }

    #[test]
    fn problem_and_upload_schemas() {
        let mut registry = Registry::new();
        Problem::register(&mut registry);
        FileUpload::register(&mut registry);
        let problem = &registry.schemas["Problem"];
        assert_eq!(problem.required, vec!["status", "title", "detail", "code"]);
        let names: Vec<&str> = problem.properties.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["status", "title", "detail", "code", "errors"]);
        let upload = &registry.schemas["FileUpload"];
        assert_eq!(upload.required, vec!["file"]);
    }
}
