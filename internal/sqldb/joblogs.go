package sqldb

import "github.com/purserhq/purser"

// JobLogs returns db's job logs as the domain's purser.JobLogs, for
// workers that know no sqldb type.
func (db *DB) JobLogs() purser.JobLogs { return jobLogs{db} }

type jobLogs struct{ db *DB }

// OpenJobLog implements purser.JobLogs.
func (j jobLogs) OpenJobLog(requestID string) purser.JobLog { return j.db.OpenJobLog(requestID) }
