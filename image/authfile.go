package image

import (
	"fmt"
	"os"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
)

// AuthFile is the node's registry credentials (image.auth_file), in the
// format of docker's config.json and of kubelet's and CRI-O's auth files:
// {"auths": {"registry.example.com": {"auth": "<base64 user:password>"}}}.
// A pull uses them when kubelet sends none (the pod has no pull secret).
type AuthFile struct {
	path string
	file *configfile.ConfigFile
}

// LoadAuthFile reads path. A file that is missing or does not parse is an
// error: credentials the operator meant to give are never dropped quietly.
func LoadAuthFile(path string) (*AuthFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth file: %w", err)
	}
	defer f.Close()
	cf, err := dockerconfig.LoadFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("auth file %s: %w", path, err)
	}
	cf.Filename = path
	return &AuthFile{path: path, file: cf}, nil
}

// For returns the credentials the file holds for a registry host
// ("host[:port]", a mirror's path left out); ok is false when it has none.
func (a *AuthFile) For(host string) (auth Auth, ok bool) {
	if a == nil {
		return Auth{}, false
	}
	host, _, _ = strings.Cut(host, "/")
	ac, err := a.file.GetAuthConfig(host)
	if err != nil {
		return Auth{}, false
	}
	auth = Auth{Username: ac.Username, Password: ac.Password, Auth: ac.Auth, IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}
	return auth, auth != Auth{}
}
