package stackfile

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Lines finds where each of paths (as the faults of Parse name them:
// services[1].user-service.ports[0]) is written in data, a stackfile's
// YAML or JSON text: the line of the value at the path, or of the deepest
// part of the path found (0 when not even that is, or data does not
// parse). An editor shows each fault next to its line.
func Lines(data []byte, paths []string) map[string]int {
	out := make(map[string]int, len(paths))
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return out
	}
	for _, p := range paths {
		out[p] = lineOf(doc.Content[0], splitPath(p))
	}
	return out
}

// splitPath cuts services[1].web.ports[0] into services, [1], web,
// ports, [0].
func splitPath(p string) []string {
	var parts []string
	for _, seg := range strings.Split(p, ".") {
		for seg != "" {
			i := strings.IndexByte(seg, '[')
			switch {
			case i < 0:
				parts, seg = append(parts, seg), ""
			case i > 0:
				parts, seg = append(parts, seg[:i]), seg[i:]
			default:
				j := strings.IndexByte(seg, ']')
				if j < 0 {
					return append(parts, seg)
				}
				parts, seg = append(parts, seg[:j+1]), seg[j+1:]
			}
		}
	}
	return parts
}

// lineOf walks n by parts and returns the line of the last part found.
func lineOf(n *yaml.Node, parts []string) int {
	line := n.Line
	for _, part := range parts {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		at := 0
		if strings.HasPrefix(part, "[") {
			i, err := strconv.Atoi(strings.Trim(part, "[]"))
			if n.Kind == yaml.SequenceNode && err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		} else if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					// A scalar's own line; a collection's key's line
					// (a block collection starts on the line below it).
					next, at = n.Content[i+1], n.Content[i].Line
					if next.Kind == yaml.ScalarNode && next.Tag != "!!null" {
						at = next.Line
					}
					break
				}
			}
		}
		if next == nil {
			return line
		}
		if at == 0 {
			at = next.Line
		}
		n, line = next, at
	}
	return line
}
