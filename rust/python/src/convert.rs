//! Conversions between Python values and the engine's types: bodies, integers, message attributes,
//! string mappings. Type errors are Python's (`TypeError`); range checks are the engine's.

use crate::error::{out_of_range, to_py_err};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyString, PyType};
use sqsfast_core::{AttributeData, AttributeValue, Error, ErrorCode};

/// `sqsfast.MessageAttribute`, the value of a message attribute of any type.
static MESSAGE_ATTRIBUTE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn message_attribute_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    MESSAGE_ATTRIBUTE.import(py, "sqsfast._types", "MessageAttribute")
}

fn type_name(ob: &Bound<'_, PyAny>) -> String {
    ob.get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// A message body: `bytes` as is, `str` as UTF-8.
///
/// A `str` with a lone surrogate has no UTF-8 form; its bytes with the surrogates passed through
/// are not UTF-8 either, so the engine rejects them (`InvalidMessageContents`) as it rejects any
/// body outside SQS's characters, rather than Python raising `UnicodeEncodeError`.
pub(crate) fn body(ob: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = ob.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(s) = ob.cast::<PyString>() {
        match s.to_cow() {
            Ok(text) => Ok(text.into_owned().into_bytes()),
            Err(_) => Ok(s
                .call_method1(intern!(s.py(), "encode"), ("utf-8", "surrogatepass"))?
                .cast_into::<PyBytes>()?
                .as_bytes()
                .to_vec()),
        }
    } else {
        Err(PyTypeError::new_err(format!(
            "a message body must be bytes or str, not {}",
            type_name(ob)
        )))
    }
}

/// An optional count (seconds, messages) for the engine's `u32`, named as SQS names the parameter.
pub(crate) fn count(parameter: &str, value: Option<i64>) -> PyResult<Option<u32>> {
    value
        .map(|v| u32::try_from(v).map_err(|_| out_of_range(parameter, v)))
        .transpose()
}

/// Strings of an iterable (a list, tuple, set, ...), but not the characters of one string.
pub(crate) fn strings(ob: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    if ob.is_instance_of::<PyString>() || ob.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an iterable of str, not a single {}",
            type_name(ob)
        )));
    }
    ob.try_iter()?
        .map(|item| item?.extract::<String>())
        .collect()
}

/// The (key, value) pairs of a mapping, in its order, each converted by `convert`.
fn pairs<'py, T>(
    ob: &Bound<'py, PyAny>,
    what: &str,
    mut convert: impl FnMut(&str, &Bound<'py, PyAny>) -> PyResult<T>,
) -> PyResult<Vec<(String, T)>> {
    let items = if let Ok(dict) = ob.cast::<PyDict>() {
        dict.items().into_any()
    } else if ob.hasattr("items")? && !ob.is_instance_of::<PyString>() {
        ob.call_method0("items")?
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a mapping, not {}",
            type_name(ob)
        )));
    };
    items
        .try_iter()?
        .map(|item| {
            let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item?.extract()?;
            let key: String = key.extract().map_err(|_| {
                PyTypeError::new_err(format!("{what} keys must be str, not {}", type_name(&key)))
            })?;
            let value = convert(&key, &value)?;
            Ok((key, value))
        })
        .collect()
}

/// A `dict[str, str]` (queue attributes by SQS name, tags) as pairs, in order.
pub(crate) fn str_pairs(ob: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<(String, String)>> {
    pairs(ob, what, |key, value| {
        value.extract::<String>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} values must be str, not {} (for {key:?})",
                type_name(value)
            ))
        })
    })
}

/// Message attributes to send: `str` → `String`, `int`/`float` → `Number`, `bytes` → `Binary`,
/// `MessageAttribute(data_type, value)` → that type. `bool` is not a number here: `TypeError`.
pub(crate) fn message_attributes(
    ob: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<(String, AttributeValue)>> {
    match ob {
        None => Ok(Vec::new()),
        Some(ob) if ob.is_none() => Ok(Vec::new()),
        Some(ob) => pairs(ob, "message attributes", attribute_value),
    }
}

fn attribute_value(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<AttributeValue> {
    let py = ob.py();
    if let Ok(s) = ob.cast::<PyString>() {
        return Ok(AttributeValue::string(attribute_text(name, s)?));
    }
    if let Ok(b) = ob.cast::<PyBytes>() {
        return Ok(AttributeValue::binary(b.as_bytes()));
    }
    if ob.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "message attribute {name:?}: bool is not a Number; send it as str or as MessageAttribute"
        )));
    }
    if ob.is_instance_of::<PyInt>() || ob.is_instance_of::<PyFloat>() {
        // Format the plain int or float, not a subclass's __str__ (an IntEnum's name, say).
        let plain = if ob.is_exact_instance_of::<PyInt>() || ob.is_exact_instance_of::<PyFloat>() {
            ob.clone()
        } else if ob.is_instance_of::<PyInt>() {
            py.get_type::<PyInt>().call1((ob,))?
        } else {
            py.get_type::<PyFloat>().call1((ob,))?
        };
        return Ok(AttributeValue::number(plain.str()?.to_cow()?));
    }
    if ob.is_instance(message_attribute_class(py)?)? {
        let data_type: String = ob.getattr("data_type")?.extract()?;
        let value = ob.getattr("value")?;
        let value = if let Ok(s) = value.cast::<PyString>() {
            AttributeData::String(attribute_text(name, s)?)
        } else if let Ok(b) = value.cast::<PyBytes>() {
            AttributeData::Binary(b.as_bytes().to_vec())
        } else {
            return Err(PyTypeError::new_err(format!(
                "message attribute {name:?}: a MessageAttribute value must be str or bytes, not {}",
                type_name(&value)
            )));
        };
        return Ok(AttributeValue { data_type, value });
    }
    Err(PyTypeError::new_err(format!(
        "message attribute {name:?} must be str, int, float, bytes or MessageAttribute, not {}",
        type_name(ob)
    )))
}

/// The text of a `String` or `Number` attribute value. One with a lone surrogate cannot be UTF-8:
/// SQS's error for characters outside its set, as for a body, not `UnicodeEncodeError`.
fn attribute_text(name: &str, s: &Bound<'_, PyString>) -> PyResult<String> {
    s.to_cow().map(|text| text.into_owned()).map_err(|_| {
        to_py_err(Error::new(
            ErrorCode::InvalidParameterValue,
            format!("The message attribute '{name}' contains characters outside the allowed set."),
        ))
    })
}

/// Received message attributes as a dict: `String` → `str`, `Binary` → `bytes`, `Number` → `int`
/// when it is an integer, else `float`; labelled types (`Number.float`) → `MessageAttribute`.
pub(crate) fn message_attributes_to_py<'py>(
    py: Python<'py>,
    attributes: &[(String, AttributeValue)],
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in attributes {
        dict.set_item(name, attribute_to_py(py, value)?)?;
    }
    Ok(dict)
}

fn attribute_to_py<'py>(py: Python<'py>, value: &AttributeValue) -> PyResult<Bound<'py, PyAny>> {
    match (value.data_type.as_str(), &value.value) {
        ("String", AttributeData::String(s)) => Ok(PyString::new(py, s).into_any()),
        ("Binary", AttributeData::Binary(b)) => Ok(PyBytes::new(py, b).into_any()),
        ("Number", AttributeData::String(s)) => match number(py, s)? {
            Some(n) => Ok(n),
            None => labelled(py, value),
        },
        _ => labelled(py, value),
    }
}

fn labelled<'py>(py: Python<'py>, value: &AttributeValue) -> PyResult<Bound<'py, PyAny>> {
    let data = match &value.value {
        AttributeData::String(s) => PyString::new(py, s).into_any(),
        AttributeData::Binary(b) => PyBytes::new(py, b).into_any(),
    };
    message_attribute_class(py)?.call1((value.data_type.as_str(), data))
}

/// An SQS number as `int` when it is one (digits with an optional sign), else as `float`; `None`
/// if it is neither (the engine only stores valid numbers, so that does not happen).
fn number<'py>(py: Python<'py>, s: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let s = s.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // At most 38 significant digits: always fits an i128; Python's int() in case it does not.
        return match s.parse::<i128>() {
            Ok(n) => Ok(Some(n.into_pyobject(py)?.into_any())),
            Err(_) => Ok(Some(py.get_type::<PyInt>().call1((s,))?)),
        };
    }
    Ok(s.parse::<f64>()
        .ok()
        .map(|f| PyFloat::new(py, f).into_any()))
}
