//! The protobuf codec of the gRPC API: prost's, except that a request that does not decode gets
//! INVALID_ARGUMENT (the caller sent bad bytes), where prost's codec answers INTERNAL, and that a
//! reply is encoded into a buffer reserved at its full length (prost's codec lets the buffer grow
//! by doubling from 8 KiB, copying a batch of received messages up to three times). A request is
//! read into a buffer of [`DECODE_BUFFER`] bytes, so that a batch of 100 messages of a few hundred
//! bytes does not make tonic grow (and copy) its 8 KiB default twice.

use prost::Message;
use std::marker::PhantomData;
use tonic::Status;
use tonic::codec::{BufferSettings, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// [`tonic_prost::ProstCodec`] with decode errors reported as INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct Codec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for Codec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> tonic::codec::Codec for Codec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProtoEncoder<T>;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProtoEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder(PhantomData)
    }
}

/// Encodes `T` into room reserved for all of it.
#[derive(Debug, Clone)]
pub struct ProtoEncoder<T>(PhantomData<T>);

impl<T> Default for ProtoEncoder<T> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T: Message> Encoder for ProtoEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.reserve(item.encoded_len());
        item.encode_raw(buf);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// Bytes of the buffer a request is read into (it grows for a larger one).
const DECODE_BUFFER: usize = 64 << 10;

/// Decodes `U`; a malformed message is the caller's fault.
#[derive(Debug, Clone, Default)]
pub struct ProtoDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for ProtoDecoder<U> {
    type Item = U;
    type Error = Status;

    fn buffer_settings(&self) -> BufferSettings {
        // The yield threshold is tonic's default; only encoding uses it.
        BufferSettings::new(DECODE_BUFFER, 32 << 10)
    }

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|e| {
            Status::invalid_argument(format!(
                "malformed request: not a valid {} message ({e})",
                std::any::type_name::<U>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("protobuf")
            ))
        })
    }
}
