package purser

import (
	"encoding/json"
	"strings"
)

// imageTagRE is an OCI tag: letters, digits, '_', '.' and '-' (the seed's
// chat bot refused '.' and '_', so 1.2.3 could not be deployed).
var imageTagRE = boundedPattern(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`, 1, 128)

// SplitImage splits an image reference into its repository and its tag,
// the text after the last ':' that follows the last '/', so that a
// registry's host:port is never taken for a tag; tag is "" when there is
// none. A digest (@sha256:...) is cut off the repository.
func SplitImage(image string) (repo, tag string) {
	if at := strings.IndexByte(image, '@'); at >= 0 {
		image = image[:at]
	}
	slash := strings.LastIndexByte(image, '/')
	if colon := strings.LastIndexByte(image, ':'); colon > slash {
		return image[:colon], image[colon+1:]
	}
	return image, ""
}

// ServiceUpdate is the seed's change of one service: a new image tag, a
// new desired count (0 is valid), or both.
type ServiceUpdate struct {
	ImageTag     *string
	DesiredCount *int
}

// UpdateService returns a copy of s, as written, with the named service's
// tag and count changed: only the tag part of the image is replaced.
// ENOTFOUND when s has no such service; EINVALID for a tag that is not an
// OCI tag or a negative count.
func (s *Stackfile) UpdateService(name string, u ServiceUpdate) (*Stackfile, error) {
	var fe []FieldError
	if u.ImageTag != nil && !imageTagRE.MatchString(*u.ImageTag) {
		fe = append(fe, FieldError{"image_tag", "pattern", "must be a tag: letters, digits, '_', '.' and '-', at most 128"})
	}
	if u.DesiredCount != nil && *u.DesiredCount < 0 {
		fe = append(fe, FieldError{"desired_count", "minimum", "must be at least 0"})
	}
	if len(fe) > 0 {
		return nil, Invalid(fe...)
	}
	out := s.Clone()
	sv := out.Service(name)
	if sv == nil {
		return nil, Errorf(ENOTFOUND, "the stack has no service %s", name)
	}
	if u.ImageTag != nil {
		repo, _ := SplitImage(sv.Image)
		sv.Image = repo + ":" + *u.ImageTag
	}
	if u.DesiredCount != nil {
		n := *u.DesiredCount
		sv.DesiredCount = &n
	}
	return out, nil
}

// RemoveService returns a copy of s, as written, without the named
// service. ENOTFOUND when there is no such service; EINVALID, naming
// each depends_on entry, while other services depend on it.
func (s *Stackfile) RemoveService(name string) (*Stackfile, error) {
	if s.Service(name) == nil {
		return nil, Errorf(ENOTFOUND, "the stack has no service %s", name)
	}
	var fe []FieldError
	for i, sv := range s.Services {
		for j, d := range sv.DependsOn {
			if d == name && sv.Name != name {
				fe = append(fe, FieldError{ServicePath(i, sv.Name, fieldIndex("depends_on", j)), "depends_on",
					"depends on " + name + ": remove it from depends_on first"})
			}
		}
	}
	if len(fe) > 0 {
		return nil, Invalid(fe...)
	}
	out := s.Clone()
	for i := range out.Services {
		if out.Services[i].Name == name {
			out.Services = append(out.Services[:i], out.Services[i+1:]...)
			break
		}
	}
	return out, nil
}

// Clone returns a deep copy of s.
func (s *Stackfile) Clone() *Stackfile {
	b, err := json.Marshal(s)
	if err != nil {
		panic("stackfile does not encode: " + err.Error()) // only plain types: cannot happen
	}
	var out Stackfile
	if err := json.Unmarshal(b, &out); err != nil {
		panic("stackfile does not decode: " + err.Error())
	}
	return &out
}
