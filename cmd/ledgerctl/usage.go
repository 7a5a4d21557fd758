package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"time"

	"ledger/api/wire"
	"ledger/billing"
	"ledger/internal/redact"

	"github.com/nats-io/nats.go"
)

// usageSend publishes one usage event on usage.<channel>.<account> (CONTRACT 2), as a platform
// service would, to try the ledger without the NATS CLI. The NATS server is the one ledgerd
// says it listens on (GET /v1/info), unless --nats names another.
func usageSend(fs *flag.FlagSet) action {
	account := fs.String("account", "", "the account the traffic is charged to; required")
	channel := fs.String("channel", "sms", "sms, mms, voice, ott, push or professional_services")
	product := fs.String("product", "", "for ott the messaging product (whatsapp, rcs, …); for professional services travel or materials")
	destination := fs.String("destination", "", "E.164 number, + and digits (not for professional services)")
	quantity := fs.Int64("quantity", 1, "SMS/MMS parts, voice seconds, messages, professional-service minutes (travel: km; materials: units)")
	callerID := fs.String("caller-id", "", "the caller id of an outbound call (SST 6.3)")
	occurred := fs.String("occurred-at", "", "when the traffic happened, RFC 3339 (default now)")
	id := fs.String("id", "", "the event's id: the same id again is charged once (default a new one)")
	natsURL := fs.String("nats", "", "the NATS server to publish to (default: the one ledgerd names at GET /v1/info)")
	natsCreds := fs.String("nats-creds", "", "credentials file for that NATS server; or USER:PASSWORD in its URL")
	return func(ctx context.Context, inv *invocation) error {
		if *account == "" {
			return usagef("--account is required")
		}
		server := *natsURL
		if server == "" {
			var info struct {
				NATS string `json:"nats"`
			}
			if _, _, err := inv.client.call(ctx, http.MethodGet, "/v1/info", nil, nil, &info); err != nil {
				return fmt.Errorf("ask ledgerd where to publish: %w", err)
			}
			server = info.NATS
		}
		at := time.Now().UTC()
		if *occurred != "" {
			t, err := time.Parse(time.RFC3339Nano, *occurred)
			if err != nil {
				return usagef("--occurred-at %q: want RFC 3339, such as 2026-03-05T10:00:00Z", *occurred)
			}
			at = t
		}
		if *id == "" {
			*id = fmt.Sprintf("ledgerctl-%d", time.Now().UnixNano())
		}
		event := map[string]any{"id": *id, "account": *account, "channel": *channel, "quantity": *quantity,
			"occurred_at": at.Format(time.RFC3339Nano)}
		for k, v := range map[string]string{"product": *product, "destination": *destination, "caller_id": *callerID} {
			if v != "" {
				event[k] = v
			}
		}
		body, _ := json.Marshal(event)
		opts := []nats.Option{nats.Name("ledgerctl usage send"), nats.Timeout(5 * time.Second)}
		if *natsCreds != "" {
			opts = append(opts, nats.UserCredentials(*natsCreds))
		}
		nc, err := nats.Connect(server, opts...)
		if err != nil {
			return fmt.Errorf("connect to NATS at %s: %w", redact.URLs(server), err)
		}
		defer nc.Close()
		subject := "usage." + *channel + "." + *account
		msg := nats.NewMsg(subject)
		msg.Header.Set(nats.MsgIdHdr, *id) // JetStream's de-duplication, beside the ledger's own by id
		msg.Data = body
		js, err := nc.JetStream()
		if err != nil {
			return err
		}
		ack, err := js.PublishMsg(msg, nats.Context(ctx))
		if err != nil {
			return fmt.Errorf("publish on %s: %w", subject, err)
		}
		if inv.json {
			_, err := fmt.Fprintf(inv.stdout, "%s\n", body)
			return err
		}
		note := ""
		if ack.Duplicate {
			note = " (the stream had it already: published once)"
		}
		_, err = fmt.Fprintf(inv.stdout, "published %s on %s, stream %s sequence %d%s\n%s\n", *id, subject, ack.Stream, ack.Sequence, note, body)
		return err
	}
}

// topUpsAdd books a top-up of a prepaid account (CONTRACT 3.2): usable from the day after it
// was received (T&C 3.13).
func topUpsAdd(fs *flag.FlagSet) action {
	id := fs.String("id", "", "the top-up's id: booking it twice books it once; required")
	amount := fs.String("amount", "", "EUR, e.g. 50.00; required")
	method := fs.String("method", "", "card or bank; required")
	received := fs.String("received-at", "", "when the money was received, RFC 3339 (default now)")
	return func(ctx context.Context, inv *invocation) error {
		if err := required("id", *id, "amount", *amount, "method", *method); err != nil {
			return err
		}
		body := map[string]string{"id": *id, "amount": *amount, "method": *method}
		if *received != "" {
			body["received_at"] = *received
		}
		var lot wire.Lot
		status, printed, err := inv.answer(ctx, http.MethodPost, accountPath(inv.args[0])+"/topups", nil, body, &lot)
		if err != nil || printed {
			return err
		}
		booked := "booked"
		if status == http.StatusOK {
			booked = "booked before with this id; nothing changed"
		}
		fmt.Fprintf(inv.stdout, "Top-up %s (%s)\n\n", *id, booked)
		return writeFields(inv.stdout, field{"amount", lot.Amount}, field{"received", lot.ReceivedAt},
			field{"usable from", lot.UsableFrom}, field{"expires", lot.ExpiresAt}, field{"state", lot.State})
	}
}

func topUpsList(fs *flag.FlagSet) action {
	return func(ctx context.Context, inv *invocation) error {
		t := newTable("TOP-UP", "METHOD", "AMOUNT", "REMAINING", "RECEIVED", "USABLE FROM", "EXPIRES", "STATE").alignRight(2, 3)
		n, printed, err := listRows(ctx, inv, accountPath(inv.args[0])+"/topups", nil, func(l wire.Lot) error {
			t.add(l.ID, l.Method, l.Amount, l.Remaining, l.ReceivedAt, l.UsableFrom, l.ExpiresAt, l.State)
			return nil
		})
		if err != nil || printed {
			return err
		}
		return t.writeCounted(inv.stdout, plural(n, "top-up", "top-ups"))
	}
}

// rejectedList lists the parked events (CONTRACT 3.7), of one reason or all.
func rejectedList(fs *flag.FlagSet) action {
	reason := fs.String("reason", "", "only this reason (malformed, unknown_account, no_price, account_closed, duplicate_conflict, missing_cpi, charge_too_large)")
	return func(ctx context.Context, inv *invocation) error {
		q := query("reason", *reason)
		t := newTable("ID", "EVENT", "ACCOUNT", "REASON", "PARKED AT", "REPLAYS", "DETAIL").alignRight(0, 5)
		n, printed, err := listRows(ctx, inv, "/v1/rejected", q, func(r wire.Rejected) error {
			t.add(fmt.Sprint(r.ID), r.EventID, r.Account, r.Reason, r.ParkedAt, fmt.Sprint(r.Replays), r.Detail)
			return nil
		})
		if err != nil || printed {
			return err
		}
		return t.writeCounted(inv.stdout, plural(n, "event", "events")+" parked")
	}
}

// rejectedReplay charges the parked events whose cause is fixed (R1); the others stay parked.
func rejectedReplay(fs *flag.FlagSet) action {
	reason := fs.String("reason", "", "only this reason (default all)")
	return func(ctx context.Context, inv *invocation) error {
		body := map[string]string{}
		if *reason != "" {
			body["reason"] = *reason
		}
		var res billing.ReplayResult
		_, printed, err := inv.answer(ctx, http.MethodPost, "/v1/rejected/replay", nil, body, &res)
		if err != nil || printed {
			return err
		}
		fmt.Fprintf(inv.stdout, "replayed %d: %d charged, %d duplicates of charges, %d still parked\n", res.Replayed, res.Charged, res.Duplicates, res.StillOpen)
		for r, n := range res.ByReason {
			fmt.Fprintf(inv.stdout, "  %s: %d\n", r, n)
		}
		return nil
	}
}
