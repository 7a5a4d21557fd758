package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"

	"ledger/api/wire"
)

// auditEntry is one record of GET /v1/audit (CONTRACT 3.10).
type auditEntry = wire.AuditEntry

func auditList(fs *flag.FlagSet) action {
	account := fs.String("account", "", "only the writes concerning this account")
	return func(ctx context.Context, inv *invocation) error {
		q := url.Values{}
		if *account != "" {
			q.Set("account", *account)
		}
		t := newTable("SEQ", "AT", "ACTOR", "ROLE", "METHOD", "PATH", "ACCOUNT", "STATUS").alignRight(0, 7)
		var items []json.RawMessage
		refused := 0
		err := inv.client.list(ctx, "/v1/audit", q, func(raw json.RawMessage) error {
			var e auditEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("GET /v1/audit: an item is not an audit record: %w", err)
			}
			items = append(items, raw)
			if e.Status >= 400 {
				refused++
			}
			t.add(strconv.FormatInt(e.Seq, 10), e.At, e.Actor, e.Role, e.Method, e.Path, e.Account, strconv.Itoa(e.Status))
			return nil
		})
		if err != nil {
			return err
		}
		if inv.json {
			return writeJSON(inv.stdout, map[string]any{"items": nonNil(items), "next": ""})
		}
		if len(items) > 0 {
			if err := t.write(inv.stdout); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintf(inv.stdout, "%s, %d refused\n", plural(len(items), "record", "records"), refused)
		return err
	}
}
