package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/purserhq/purser"
)

// The work directory (exec.work_dir) belongs to the server, mode 0711: a
// run-as user reaches its requests' directories by name but lists
// nothing, and cannot touch the lock and pid files beside them.
//
//	<request>/       the request's files, 0700, owned by the run-as user
//	<request>.lock   flock held for a whole run: one run per request at once
//	<request>.pid    "pgid starttime" of the running command's group
const maxOutputs = 1 << 20 // bytes of $PURSER_OUTPUTS read

// lockPoll is how often a run waiting for another run of its request
// tries the lock again.
const lockPoll = 100 * time.Millisecond

// lock takes the request's lock, waiting (and saying so in log, if any)
// while another run holds it, whether in this process or another one
// sharing the file system; unlock(true) also removes the lock file. With
// ctx already done it only tries.
func (d *Driver) lock(ctx context.Context, id string, log *tail) (unlock func(remove bool), err error) {
	path := filepath.Join(d.WorkDir, id+".lock")
	noted := false
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		fd := int(f.Fd())
		for {
			err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				break
			}
			if !noted && log != nil {
				log.note("waiting for the previous run of this request to end")
				noted = true
			}
			select {
			case <-ctx.Done():
				f.Close()
				return nil, ctx.Err()
			case <-tick.C:
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The run before ours may have removed the file (Destroy): a lock on
		// it excludes nobody who opens the path now, so start again.
		var held, now syscall.Stat_t
		if syscall.Fstat(fd, &held) == nil && syscall.Stat(path, &now) == nil && held.Dev == now.Dev && held.Ino == now.Ino {
			return func(remove bool) {
				if remove {
					_ = os.Remove(path)
				}
				f.Close()
			}, nil
		}
		f.Close()
	}
}

func (d *Driver) pidFile(id string) string { return filepath.Join(d.WorkDir, id+".pid") }

// writePidFile records a running group with its leader's start time, so
// that a later start-up kills that group and not a process that took the
// number since.
func writePidFile(path string, pgid int) error {
	st, ok := readStat(pgid)
	if !ok {
		st.startTime = "0"
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %s\n", pgid, st.startTime), 0o600); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return os.Rename(tmp, path)
}

// killStale kills the group a pid file names, left by a run whose server
// died, and removes the file. While a group exists its number is not
// given to a new process; so if the leader is gone or is the recorded
// process, whatever is left of the group is ours. A leader with another
// start time is a stranger that took the number: it is left alone.
func killStale(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var pgid int
	var start string
	if _, err := fmt.Sscan(string(data), &pgid, &start); err != nil || pgid <= 1 {
		return os.Remove(path)
	}
	if st, ok := readStat(pgid); !ok || st.startTime == start || st.state == "Z" {
		if err := killGroup(pgid); err != nil {
			return err
		}
	}
	return os.Remove(path)
}

// cleanup kills every group left by runs of a server that died. A pid
// file whose request's lock is held belongs to a live run (of another
// server sharing the work directory): it is left alone.
func (d *Driver) cleanup() error {
	paths, err := filepath.Glob(filepath.Join(d.WorkDir, "*.pid"))
	if err != nil {
		return err
	}
	try, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, p := range paths {
		unlock, err := d.lock(try, strings.TrimSuffix(filepath.Base(p), ".pid"), nil)
		if errors.Is(err, context.Canceled) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := killStale(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
		unlock(false)
	}
	return errors.Join(errs...)
}

// workDir returns a request's work directory, after checking that the
// request ID is a plain name.
func (d *Driver) workDir(id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("request ID %q cannot name a work directory", id)
	}
	return filepath.Join(d.WorkDir, id), nil
}

// prepare makes the work directory with the rendered files and params.json.
// The directory belongs to the run-as user, who may have left links in it:
// every file is written through an os.Root, after removing what was there.
func (d *Driver) prepare(env purser.Environment, s *Spec) (string, error) {
	dir, err := d.workDir(env.RequestID)
	if err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", err
	}
	if d.cred != nil {
		if err := os.Lchown(dir, int(d.cred.Uid), int(d.cred.Gid)); err != nil {
			return "", err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	for _, f := range s.Files {
		kind := kindOf(f)
		if f.Raw {
			kind = KindText
		}
		text, err := Render(f.Content, kind, env.Params)
		if err != nil {
			return "", fmt.Errorf("render %s: %w", f.Path, err)
		}
		if err := d.writeFile(root, f.Path, []byte(text)); err != nil {
			return "", fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	b, _ := json.MarshalIndent(env.Params, "", "  ")
	return dir, d.writeFile(root, "params.json", b)
}

func (d *Driver) writeFile(root *os.Root, name string, data []byte) error {
	if sub := filepath.Dir(name); sub != "." {
		if err := root.MkdirAll(sub, 0o700); err != nil {
			return err
		}
		for p := sub; d.cred != nil && p != "."; p = filepath.Dir(p) {
			if err := root.Lchown(p, int(d.cred.Uid), int(d.cred.Gid)); err != nil {
				return err
			}
		}
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if d.cred != nil {
		if err := f.Chown(int(d.cred.Uid), int(d.cred.Gid)); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readOutputs reads the JSON object the command wrote to $PURSER_OUTPUTS,
// inside its work directory only.
func readOutputs(dir string) (map[string]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open("outputs.json")
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("$PURSER_OUTPUTS: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxOutputs+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxOutputs {
		return nil, fmt.Errorf("$PURSER_OUTPUTS is over %d bytes", maxOutputs)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("$PURSER_OUTPUTS is not a JSON object: %v", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out, nil
}
