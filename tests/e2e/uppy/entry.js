// docs/uppy.md's setup, as the browser test runs it: bundled from npm by esbuild at test
// time (never committed), then called by the page with a session's companionEndpoint.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

// Your backend opens the session (POST /uploads/sessions with the user's bearer token) and
// hands the page its companionEndpoint; Uppy needs nothing else.
export function uploadWithUppy(companionEndpoint, files) {
  const uppy = new Uppy().use(AwsS3, { companionEndpoint });
  for (const file of files) {
    uppy.addFile({ name: file.name, type: file.type, data: file, meta: file.meta });
  }
  return uppy.upload();
}

window.uploadWithUppy = uploadWithUppy;
