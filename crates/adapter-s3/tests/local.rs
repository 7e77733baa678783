//! `LocalObjectStore` passes the object store conformance suite, with each
//! upload going through the checks the embedded `PUT /uploads/{key}` route
//! makes: the signed query, the `Content-Type` header, then the write.

use adapter_s3::LocalObjectStore;
use adapter_s3::local::UploadQuery;
use shared_kernel::{Clock, SystemClock};
use url::Url;

#[tokio::test]
async fn the_local_store_passes_the_object_store_story() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        LocalObjectStore::new(dir.path().join("objects"), "https://usher.test/", vec![7; 32]).expect("the store");
    image_upload::testing::object_store_story(&store, async |key, presigned, bytes| {
        let url = Url::parse(&presigned.url)?;
        let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let query = UploadQuery {
            expires: param("expires").unwrap_or_default().parse()?,
            content_type: param("contentType").unwrap_or_default(),
            signature: param("signature").unwrap_or_default(),
        };
        let content_type = presigned.headers.iter().find(|(name, _)| name == "Content-Type").map(|(_, v)| v.as_str());
        store.verify_put(&key, &query, content_type, SystemClock.now())?;
        let mut upload = store.begin_write(&key, 1 << 20).await?;
        upload.append(&bytes).await?;
        upload.finish().await?;
        Ok(())
    })
    .await;
}
