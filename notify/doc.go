// Package notify e-mails customers about their credit (T&C 3.5) from the ledger's outgoing
// events: a threshold of the credit limit crossed upward, a suspension at the limit (T&C 3.6,
// 10.3) and the automatic resumption (T&C 10.4). It is optional: the service runs it only when
// SMTP is configured.
//
// The Mailer reads the BILLING stream through its own durable pull consumer (ConsumerName), one
// message at a time, and hands each notice to an SMTP server with net/smtp. A message is
// acknowledged only after the server accepted the mail (250 after DATA), so delivery is at least
// once: a crash between the server's 250 and the acknowledgement sends the notice again. Every
// notice therefore carries a Message-ID derived from the event's stream sequence and account,
// identical on every redelivery, by which mail clients recognise the duplicate.
//
// What happens to a message that cannot be mailed:
//
//	account has no e-mail address         log, acknowledge (nothing to send)
//	unknown account, malformed event,
//	unusable address, 5xx on RCPT or DATA  log, terminate (retrying cannot help)
//	4xx, connection refused, timeout,
//	5xx before RCPT (our configuration)     negative acknowledgement with a growing delay,
//	                                        terminated after MaxDeliver attempts
package notify
