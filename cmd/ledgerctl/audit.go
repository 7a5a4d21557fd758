package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"ledger/api/wire"
)

// auditEntry is one record of GET /v1/audit (CONTRACT 3.10).
type auditEntry = wire.AuditEntry

func auditList(fs *flag.FlagSet) action {
	account := fs.String("account", "", "only the writes concerning this account")
	return func(ctx context.Context, inv *invocation) error {
		t := newTable("SEQ", "AT", "ACTOR", "ROLE", "METHOD", "PATH", "ACCOUNT", "STATUS").alignRight(0, 7)
		refused := 0
		n, printed, err := listRows(ctx, inv, "/v1/audit", query("account", *account), func(e auditEntry) error {
			if e.Status >= 400 {
				refused++
			}
			t.add(strconv.FormatInt(e.Seq, 10), e.At, e.Actor, e.Role, e.Method, e.Path, e.Account, strconv.Itoa(e.Status))
			return nil
		})
		if err != nil || printed {
			return err
		}
		if n > 0 {
			if err := t.write(inv.stdout); err != nil {
				return err
			}
		}
		_, err = fmt.Fprintf(inv.stdout, "%s, %d refused\n", plural(n, "record", "records"), refused)
		return err
	}
}
