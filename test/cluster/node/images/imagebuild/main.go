// Command imagebuild packages one static binary as an image archive that
// `ctr images import` reads, without Docker or a registry: one layer holding the
// binary at /<name>, an entrypoint running it, written with go-containerregistry.
//
//	imagebuild -binary ./app -tag statefulset-canary.local/app:v1 -tag ...:v2 -out app.tar
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type tags []string

func (t *tags) String() string     { return strings.Join(*t, ",") }
func (t *tags) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	binary := flag.String("binary", "", "the static binary to package")
	out := flag.String("out", "", "the archive to write")
	var refs tags
	flag.Var(&refs, "tag", "a reference the image is imported as (repeatable)")
	flag.Parse()
	if *binary == "" || *out == "" || len(refs) == 0 {
		fmt.Fprintln(os.Stderr, "usage: imagebuild -binary FILE -tag REF [-tag REF...] -out FILE")
		os.Exit(2)
	}
	if err := build(*binary, refs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func build(binary string, refs []string, out string) error {
	content, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	path := "/" + filepath.Base(binary)
	layer, err := binaryLayer(path, content)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = []string{path}
	// A fixed creation time: the same binary gives the same image ID.
	cfg.Created = v1.Time{}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	named := map[name.Tag]v1.Image{}
	for _, ref := range refs {
		tag, err := name.NewTag(ref)
		if err != nil {
			return err
		}
		named[tag] = img
	}
	tmp := out + ".tmp"
	if err := tarball.MultiWriteToFile(tmp, named); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// binaryLayer is an uncompressed tar (archive/tar) holding the executable at path.
func binaryLayer(path string, content []byte) (v1.Layer, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	header := &tar.Header{Name: strings.TrimPrefix(path, "/"), Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}
	if err := w.WriteHeader(header); err != nil {
		return nil, err
	}
	if _, err := w.Write(content); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
}
