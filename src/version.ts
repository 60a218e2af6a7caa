// The release's version, as package.json says it (a unit test keeps the two equal; the release
// workflow refuses a tag that is not package.json's version). `statefulset-canary --version`.
export const version = '0.1.0';
