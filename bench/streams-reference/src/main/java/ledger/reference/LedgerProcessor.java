package ledger.reference;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The ledger's processing loop (processors/account/batch.ts) and account rules
 * (processors/account/domain/decide.ts, evolve.ts) for the commands the bench's workload sends
 * (scripts/workload.ts): OpenAccount, Deposit, Withdraw, InitiateTransfer, CloseAccount, and the
 * transfer's internal CreditTransfer, SettleTransfer and RefundTransfer. Same decisions, same
 * rejection codes in the same order, same derived ids, same records: events (key
 * `<accountId>:<sequence>`), follow-up commands on the commands topic, dead letters; the account
 * states, idempotency records, posting records and the transfers' index are RocksDB stores whose
 * changelogs play the roles of the account-state, outcomes and movements topics. Any other command
 * type stops the application: this is a reference for the bench, not a second ledger.
 */
final class LedgerProcessor implements Processor<String, byte[], String, byte[]> {
  /** schemas/types.ts moneyMax: Number.MAX_SAFE_INTEGER − 1. */
  static final long amountMax = 9_007_199_254_740_990L;
  private static final int idLengthMax = 255;
  private static final int ownerNameLengthMax = 200;
  private static final int referenceLengthMax = 500;
  private static final int reasonLengthMax = 255;
  /** schemas/metadata.ts metadataBounds. */
  private static final int metadataKeysMax = 32;
  private static final int metadataKeyLengthMax = 40;
  private static final int metadataValueLengthMax = 500;
  private static final Pattern metadataKey = Pattern.compile("[A-Za-z0-9_.-]+");
  private static final Pattern currencyPattern = Pattern.compile("[A-Z]{3}");
  /** reversal-records.ts postedAmount: the events whose commands leave a posting record. */
  private static final Set<String> postingEvents = Set.of("AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "TransferCredited", "TransferRefunded");
  private static final Set<String> internal = Set.of("CreditTransfer", "RefundTransfer", "SettleTransfer");
  private static final byte[] ledgerNamespace = hex("0b5e9f0e6c1a4d389a576b1f1c0d2e7a");

  static final class Counters {
    final LongAdder commands = new LongAdder();
    final LongAdder accepted = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder replayed = new LongAdder();
    final LongAdder deadLettered = new LongAdder();
  }

  private final Codecs codecs;
  private final Counters counters;
  private final String appId;
  private final String commandsTopic;
  private final int partitions;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, byte[]> accounts;
  private KeyValueStore<String, byte[]> outcomes;
  private KeyValueStore<String, byte[]> postings;
  private KeyValueStore<String, byte[]> transfers;

  LedgerProcessor(Codecs codecs, Counters counters, String appId, String commandsTopic, int partitions) {
    this.partitions = partitions;
    this.codecs = codecs;
    this.counters = counters;
    this.appId = appId;
    this.commandsTopic = commandsTopic;
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.accounts = context.getStateStore("accounts");
    this.outcomes = context.getStateStore("outcomes");
    this.postings = context.getStateStore("postings");
    this.transfers = context.getStateStore("transfers");
  }

  // --- the loop (batch.ts add) ---

  @Override
  public void process(Record<String, byte[]> record) {
    counters.commands.increment();
    long now = context.currentSystemTimeMs();
    GenericRecord command;
    try {
      command = codecs.commands.decode(record.value());
    } catch (IllegalArgumentException e) {
      // Only records that can never decode are poison; an unreachable registry stops the application (task.ts decode).
      deadLetter(record, "undecodable: " + e.getMessage());
      return;
    }
    String misrouted = routingProblem(record.key(), str(command, "accountId"));
    if (misrouted != null) {
      deadLetter(record, misrouted);
      return;
    }
    GenericRecord payload = (GenericRecord) command.get("payload");
    String type = payload.getSchema().getName();
    String invalid = invalid(command, payload, type);
    if (invalid != null) {
      deadLetter(record, "invalid command: " + invalid);
      return;
    }
    String commandId = str(command, "commandId");
    GenericRecord previous = outcome(commandId);
    if (previous != null) {
      if (str(previous, "fingerprint").equals(str(command, "fingerprint")) || internal.contains(type)) {
        // The original reply again, for whoever retried (batch.ts duplicate).
        outcomes.put(commandId, codecs.outcomes.encode(previous));
        counters.replayed.increment();
      } else {
        refuseReuse(command, previous, "command " + commandId + " was already processed with another request body", now);
      }
      return;
    }
    if (type.equals("InitiateTransfer")) {
      GenericRecord existing = initiation(str(payload, "transferId"));
      if (existing != null) {
        refuseReuse(command, existing, "transfer " + str(payload, "transferId") + " already exists (command " + str(existing, "commandId") + ")", now);
        return;
      }
    }
    GenericRecord initiation = null;
    if (type.equals("SettleTransfer") || type.equals("RefundTransfer")) {
      initiation = initiation(str(payload, "transferId"));
      if (initiation != null && !"pending".equals(str(initiation, "transferStatus"))) {
        deadLetter(record, "TRANSFER_ALREADY_LANDED: transfer " + str(payload, "transferId") + " is already " + str(initiation, "transferStatus") + "; " + type + " " + commandId + " changes nothing");
        return;
      }
    }
    decideAndApply(command, payload, type, initiation, now);
  }

  /** `initiation`: a landing transfer's initiation record (pending, or none for a transfer the first release debited). */
  private void decideAndApply(GenericRecord command, GenericRecord payload, String type, GenericRecord initiation, long now) {
    String accountId = str(command, "accountId");
    String commandId = str(command, "commandId");
    Account before = account(accountId);
    long transferInFlight = initiation != null ? lng(payload, "amount") : 0;
    Decision decision = decide(before, accountId, payload, type, transferInFlight);
    GenericRecord outcome;
    GenericRecord event = null;
    if (decision.event != null) {
      Account after = before == null ? new Account() : before.copy();
      long sequence = (before == null ? 0 : before.version) + 1;
      String eventId = accountId + ":" + sequence;
      event = new GenericData.Record(codecs.events.schema);
      event.put("eventId", eventId);
      event.put("accountId", accountId);
      event.put("sequence", sequence);
      event.put("commandId", commandId);
      event.put("occurredAt", now);
      event.put("payload", decision.event);
      event.put("actor", command.get("actor"));
      event.put("metadata", command.get("metadata"));
      evolve(after, accountId, decision.event, sequence, now);
      accounts.put(accountId, codecs.states.encode(after.toRecord(codecs.states.schema)));
      context.forward(new Record<>(eventId, codecs.events.encode(event), now), "events");
      counters.accepted.increment();
      outcome = outcomeOf(command, payload, type, now, "ACCEPTED", null, null, after);
      ((List<Long>) outcome.get("eventSequences")).add(sequence);
      if (decision.followUp != null) followUp(decision.followUp, command, eventId, now);
    } else {
      counters.rejected.increment();
      outcome = outcomeOf(command, payload, type, now, "REJECTED", decision.code, decision.message, before);
      if (decision.followUp != null) followUp(decision.followUp, command, null, now);
    }
    if (type.equals("InitiateTransfer") && event != null) {
      // Its record is kept forever and is also its posting record (batch.ts decideAndApply).
      outcome.put("transferStatus", "pending");
      outcome.put("postingType", "TransferDebited");
      outcome.put("amount", lng(payload, "amount"));
      outcome.put("counterpartyAccountId", str(payload, "toAccountId"));
      transfers.put(str(payload, "transferId"), commandId.getBytes(StandardCharsets.UTF_8));
      // The ledger writes it on the movements changelog too (kept forever), not only on outcomes.
      postings.put(commandId, codecs.movements.encode(outcome));
    }
    outcomes.put(commandId, codecs.outcomes.encode(outcome));
    if (event != null) {
      GenericRecord eventPayload = (GenericRecord) event.get("payload");
      String eventType = eventPayload.getSchema().getName();
      // reversal-records.ts postedAmount: the commands whose posting record a reversal would need.
      if (postingEvents.contains(eventType)) {
        GenericRecord posting = new GenericData.Record((GenericData.Record) outcome, true);
        posting.put("postingType", eventType);
        posting.put("amount", eventType.equals("AccountOpened") ? lng(eventPayload, "initialBalance") : lng(eventPayload, "amount"));
        postings.put(commandId, codecs.movements.encode(posting));
      }
      if (initiation != null) landed(initiation, payload, type);
    }
  }

  /** A settlement or refund ends its transfer: the initiation's record says so from now on (batch.ts landed). */
  private void landed(GenericRecord initiation, GenericRecord payload, String type) {
    boolean failed = type.equals("RefundTransfer");
    initiation.put("transferStatus", failed ? "failed" : "completed");
    initiation.put("transferCode", failed ? str(payload, "reason") : null);
    // On outcomes (for the gateway) and on movements (kept forever), as the ledger writes it.
    outcomes.put(str(initiation, "commandId"), codecs.outcomes.encode(initiation));
    postings.put(str(initiation, "commandId"), codecs.movements.encode(initiation));
  }

  private void refuseReuse(GenericRecord command, GenericRecord previous, String message, long now) {
    GenericRecord refusal = new GenericData.Record((GenericData.Record) previous, true);
    refusal.put("commandId", str(command, "commandId"));
    refusal.put("status", new GenericData.EnumSymbol(codecs.outcomes.schema.getField("status").schema(), "REJECTED"));
    refusal.put("code", "IDEMPOTENCY_KEY_REUSED");
    refusal.put("message", message);
    refusal.put("fingerprint", str(command, "fingerprint"));
    refusal.put("eventSequences", new ArrayList<Long>());
    refusal.put("processedAt", now);
    for (String field : List.of("transferStatus", "transferCode", "holdStatus", "capturedAmount", "reversalStatus", "reversalCode")) refusal.put(field, null);
    counters.rejected.increment();
    outcomes.put(str(command, "commandId") + "#" + str(command, "fingerprint"), codecs.outcomes.encode(refusal));
  }

  private void deadLetter(Record<String, byte[]> record, String reason) {
    counters.deadLettered.increment();
    RecordHeaders headers = new RecordHeaders();
    headers.add("dlq.reason", reason.getBytes(StandardCharsets.UTF_8));
    headers.add("dlq.source.topic", commandsTopic.getBytes(StandardCharsets.UTF_8));
    context.recordMetadata().ifPresent((m) -> {
      headers.add("dlq.source.partition", String.valueOf(m.partition()).getBytes(StandardCharsets.UTF_8));
      headers.add("dlq.source.offset", String.valueOf(m.offset()).getBytes(StandardCharsets.UTF_8));
    });
    headers.add("dlq.processor", appId.getBytes(StandardCharsets.UTF_8));
    context.forward(new Record<>(record.key(), record.value(), record.timestamp(), headers), "dlq");
  }

  // --- the rules (domain/decide.ts, funds.ts, evolve.ts) ---

  private record Decision(GenericRecord event, String code, String message, FollowUp followUp) {}

  /** A saga step to the commands topic, and the kind of id it derives from its cause (follow-ups.ts). */
  private record FollowUp(String accountId, GenericRecord payload, String idKind) {}

  private Decision accept(String eventType, Object... fields) {
    return new Decision(payload(codecs.eventPayloads.get(eventType), fields), null, null, null);
  }

  private static Decision reject(String code, String message) {
    return new Decision(null, code, message, null);
  }

  private Decision decide(Account state, String accountId, GenericRecord p, String type, long transferInFlight) {
    switch (type) {
      case "OpenAccount": {
        if (state != null) return reject("ACCOUNT_ALREADY_EXISTS", "account " + accountId + " already exists");
        long initial = lng(p, "initialBalance");
        long limit = lng(p, "overdraftLimit");
        if (limit > amountMax - initial) return reject("AMOUNT_TOO_LARGE", "initial balance " + initial + " plus overdraft limit " + limit + " would exceed the largest safe amount " + amountMax);
        return accept("AccountOpened", "ownerName", str(p, "ownerName"), "currency", str(p, "currency"), "initialBalance", initial, "overdraftLimit", limit);
      }
      case "Deposit": {
        Decision refused = openOnly(state, accountId);
        if (refused != null) return refused;
        long amount = lng(p, "amount");
        if (exceedsRoom(state, amount)) return tooLarge(state, amount);
        return accept("MoneyDeposited", "amount", amount, "balanceAfter", state.balance + amount, "reference", p.get("reference"));
      }
      case "Withdraw": {
        Decision refused = openOnly(state, accountId);
        if (refused != null) return refused;
        long amount = lng(p, "amount");
        if (exceedsAvailable(state, amount)) return insufficientFunds(state, amount);
        return accept("MoneyWithdrawn", "amount", amount, "balanceAfter", state.balance - amount, "reference", p.get("reference"));
      }
      case "InitiateTransfer": {
        String to = str(p, "toAccountId");
        if (to.equals(accountId)) return reject("SAME_ACCOUNT_TRANSFER", "account " + accountId + " cannot transfer to itself");
        Decision refused = openOnly(state, accountId);
        if (refused != null) return refused;
        long amount = lng(p, "amount");
        if (exceedsAvailable(state, amount)) return insufficientFunds(state, amount);
        Decision debited = accept("TransferDebited", "transferId", str(p, "transferId"), "toAccountId", to, "amount", amount, "balanceAfter", state.balance - amount, "inFlight", amount);
        GenericRecord credit = payload(codecs.commandPayloads.get("CreditTransfer"), "transferId", str(p, "transferId"), "fromAccountId", accountId, "amount", amount, "currency", state.currency);
        return new Decision(debited.event, null, null, new FollowUp(to, credit, "credit"));
      }
      case "CreditTransfer": {
        long amount = lng(p, "amount");
        String from = str(p, "fromAccountId");
        String code = null;
        String message = null;
        if (state == null) {
          code = "ACCOUNT_NOT_FOUND";
          message = "account " + accountId + " does not exist";
        } else if (state.closed) {
          code = "ACCOUNT_CLOSED";
          message = "account " + accountId + " is closed";
        } else if (!str(p, "currency").equals(state.currency)) {
          code = "CURRENCY_MISMATCH";
          message = "account " + accountId + " holds " + state.currency + ", not " + str(p, "currency");
        } else if (exceedsRoom(state, amount)) {
          code = "AMOUNT_TOO_LARGE";
          message = tooLarge(state, amount).message;
        }
        if (code != null) {
          GenericRecord refund = payload(codecs.commandPayloads.get("RefundTransfer"), "transferId", str(p, "transferId"), "toAccountId", accountId, "amount", amount, "reason", code);
          return new Decision(null, code, message, new FollowUp(from, refund, "refund"));
        }
        Decision credited = accept("TransferCredited", "transferId", str(p, "transferId"), "fromAccountId", from, "amount", amount, "balanceAfter", state.balance + amount);
        GenericRecord settle = payload(codecs.commandPayloads.get("SettleTransfer"), "transferId", str(p, "transferId"), "toAccountId", accountId, "amount", amount);
        return new Decision(credited.event, null, null, new FollowUp(from, settle, "settle"));
      }
      case "RefundTransfer": {
        if (state == null) return reject("ACCOUNT_NOT_FOUND", "account " + accountId + " does not exist");
        long amount = lng(p, "amount");
        if (transferInFlight == 0 && exceedsRoom(state, amount)) return tooLarge(state, amount);
        check(transferInFlight <= state.outgoingInFlight, "refund releases more than is in flight");
        return accept("TransferRefunded", "transferId", str(p, "transferId"), "toAccountId", str(p, "toAccountId"), "amount", amount, "balanceAfter", state.balance + amount, "reason", str(p, "reason"), "inFlightReleased", transferInFlight);
      }
      case "SettleTransfer": {
        if (state == null) return reject("ACCOUNT_NOT_FOUND", "account " + accountId + " does not exist");
        check(transferInFlight <= state.outgoingInFlight, "settlement releases more than is in flight");
        return accept("TransferSettled", "transferId", str(p, "transferId"), "toAccountId", str(p, "toAccountId"), "amount", lng(p, "amount"), "inFlightReleased", transferInFlight);
      }
      case "CloseAccount": {
        Decision refused = openOnly(state, accountId);
        if (refused != null) return refused;
        if (state.balance != 0) return reject("ACCOUNT_NOT_EMPTY", "balance " + state.balance + " must be 0 to close the account");
        if (state.heldBalance != 0) return reject("ACCOUNT_NOT_EMPTY", "holds of " + state.heldBalance + " are active; the account can close once they are captured, voided or expired");
        if (state.outgoingInFlight != 0) return reject("ACCOUNT_NOT_EMPTY", "transfers or reversals of " + state.outgoingInFlight + " are still in flight; the account can close once they land");
        return accept("AccountClosed");
      }
      default:
        throw new IllegalStateException("the Kafka Streams reference implements the bench workload's commands only, not " + type);
    }
  }

  private static Decision openOnly(Account state, String accountId) {
    if (state == null) return reject("ACCOUNT_NOT_FOUND", "account " + accountId + " does not exist");
    if (state.closed) return reject("ACCOUNT_CLOSED", "account " + accountId + " is closed");
    return null;
  }

  private static boolean exceedsAvailable(Account state, long amount) {
    return amount - state.overdraftLimit > state.balance - state.heldBalance;
  }

  private static Decision insufficientFunds(Account state, long amount) {
    return reject("INSUFFICIENT_FUNDS", "available balance " + (state.balance - state.heldBalance + state.overdraftLimit) + " is less than the requested " + amount);
  }

  /** balance + outgoingInFlight + overdraftLimit + amount past the maximum: each term is at most 2^53, so a long holds the sum. */
  private static boolean exceedsRoom(Account state, long amount) {
    return state.balance + state.outgoingInFlight + state.overdraftLimit + amount > amountMax;
  }

  private static Decision tooLarge(Account state, long amount) {
    String inFlight = state.outgoingInFlight == 0 ? "" : " (and " + state.outgoingInFlight + " in flight)";
    return reject("AMOUNT_TOO_LARGE", "balance " + state.balance + inFlight + " plus " + amount + " would exceed the largest safe amount " + amountMax);
  }

  private static void evolve(Account state, String accountId, GenericRecord event, long sequence, long now) {
    String type = event.getSchema().getName();
    switch (type) {
      case "AccountOpened" -> {
        state.accountId = accountId;
        state.ownerName = str(event, "ownerName");
        state.currency = str(event, "currency");
        state.balance = lng(event, "initialBalance");
        state.overdraftLimit = lng(event, "overdraftLimit");
        state.openedAt = now;
      }
      case "MoneyDeposited", "MoneyWithdrawn", "TransferCredited" -> state.balance = lng(event, "balanceAfter");
      case "TransferDebited" -> {
        state.balance = lng(event, "balanceAfter");
        state.outgoingInFlight += lng(event, "inFlight");
      }
      case "TransferRefunded" -> {
        state.balance = lng(event, "balanceAfter");
        state.outgoingInFlight -= lng(event, "inFlightReleased");
      }
      case "TransferSettled" -> state.outgoingInFlight -= lng(event, "inFlightReleased");
      case "AccountClosed" -> state.closed = true;
      default -> throw new IllegalStateException("no rule folds " + type);
    }
    check(state.outgoingInFlight >= 0, "money in flight below zero on " + accountId);
    state.version = sequence;
    state.updatedAt = now;
  }

  private static void check(boolean condition, String message) {
    if (!condition) throw new IllegalStateException("invariant broken: " + message);
  }

  // --- follow-ups and outcomes (follow-ups.ts, outcome-records.ts) ---

  private void followUp(FollowUp followUp, GenericRecord cause, String causingEventId, long now) {
    String commandId = switch (followUp.idKind) {
      case "credit" -> uuidV5("credit:" + causingEventId);
      case "settle" -> uuidV5("settle:" + causingEventId);
      case "refund" -> uuidV5("refund:" + str(cause, "commandId"));
      default -> throw new IllegalStateException(followUp.idKind);
    };
    Map<String, Object> meaning = new TreeMap<>();
    for (Schema.Field field : followUp.payload.getSchema().getFields()) meaning.put(field.name(), followUp.payload.get(field.name()));
    meaning.put("type", followUp.payload.getSchema().getName());
    meaning.put("accountId", followUp.accountId);
    GenericRecord command = new GenericData.Record(codecs.commands.schema);
    command.put("commandId", commandId);
    command.put("accountId", followUp.accountId);
    command.put("issuedAt", now);
    command.put("fingerprint", fingerprintOf(meaning));
    command.put("payload", followUp.payload);
    command.put("actor", cause.get("actor"));
    command.put("metadata", cause.get("metadata"));
    context.forward(new Record<>(followUp.accountId, codecs.commands.encode(command), now), "followups");
  }

  private GenericRecord outcomeOf(GenericRecord command, GenericRecord payload, String type, long now, String status, String code, String message, Account state) {
    GenericRecord outcome = new GenericData.Record(codecs.outcomes.schema);
    outcome.put("commandId", str(command, "commandId"));
    outcome.put("accountId", str(command, "accountId"));
    outcome.put("status", new GenericData.EnumSymbol(codecs.outcomes.schema.getField("status").schema(), status));
    outcome.put("code", code);
    outcome.put("message", message);
    outcome.put("fingerprint", str(command, "fingerprint"));
    outcome.put("version", state == null ? 0L : state.version);
    outcome.put("balance", state == null ? null : state.balance);
    outcome.put("transferId", payload.getSchema().getField("transferId") == null ? null : str(payload, "transferId"));
    outcome.put("eventSequences", new ArrayList<Long>(1));
    outcome.put("processedAt", now);
    outcome.put("availableBalance", state == null ? null : state.balance - state.heldBalance + state.overdraftLimit);
    outcome.put("overdraftLimit", state == null ? null : state.overdraftLimit);
    return outcome;
  }

  // --- store reads ---

  private Account account(String accountId) {
    byte[] bytes = accounts.get(accountId);
    return bytes == null ? null : Account.of(codecs.states.decode(bytes));
  }

  private GenericRecord outcome(String commandId) {
    byte[] bytes = outcomes.get(commandId);
    return bytes == null ? null : codecs.outcomes.decode(bytes);
  }

  /** The accepted initiation of a transfer, by transferId (the movements' index). */
  private GenericRecord initiation(String transferId) {
    byte[] commandId = transfers.get(transferId);
    return commandId == null ? null : outcome(new String(commandId, StandardCharsets.UTF_8));
  }

  // --- validation (domain/validate.ts, the workload's types) ---

  private static String invalid(GenericRecord command, GenericRecord p, String type) {
    return first(text("commandId", command.get("commandId"), idLengthMax), text("accountId", command.get("accountId"), idLengthMax),
        text("fingerprint", command.get("fingerprint"), idLengthMax), payloadProblem(p, type), metadataProblem(command.get("metadata")));
  }

  private static String payloadProblem(GenericRecord p, String type) {
    return switch (type) {
      case "OpenAccount" -> first(text("ownerName", p.get("ownerName"), ownerNameLengthMax), currencyProblem(p), amountProblem(p, "initialBalance", 0), amountProblem(p, "overdraftLimit", 0));
      case "Deposit", "Withdraw" -> first(amountProblem(p, "amount", 1), referenceProblem(p));
      case "InitiateTransfer" -> first(text("transferId", p.get("transferId"), idLengthMax), text("toAccountId", p.get("toAccountId"), idLengthMax), amountProblem(p, "amount", 1), referenceProblem(p));
      case "CreditTransfer" -> first(text("transferId", p.get("transferId"), idLengthMax), text("fromAccountId", p.get("fromAccountId"), idLengthMax), amountProblem(p, "amount", 1), currencyProblem(p));
      case "RefundTransfer" -> first(text("transferId", p.get("transferId"), idLengthMax), text("toAccountId", p.get("toAccountId"), idLengthMax), amountProblem(p, "amount", 1), text("reason", p.get("reason"), reasonLengthMax));
      case "SettleTransfer" -> first(text("transferId", p.get("transferId"), idLengthMax), text("toAccountId", p.get("toAccountId"), idLengthMax), amountProblem(p, "amount", 1));
      default -> null;
    };
  }

  private static String currencyProblem(GenericRecord p) {
    return currencyPattern.matcher(str(p, "currency")).matches() ? null : "currency must be three upper-case letters (ISO 4217), got " + str(p, "currency");
  }

  /** A money field from `min` (0 or 1) to the money maximum. */
  private static String amountProblem(GenericRecord p, String field, long min) {
    long amount = lng(p, field);
    return amount >= min && amount <= amountMax ? null : field + " must be a " + (min == 0 ? "non-negative" : "positive") + " integer up to " + amountMax + ", got " + amount;
  }

  private static String text(String field, Object value, int lengthMax) {
    return text(field, value, 1, lengthMax);
  }

  private static String text(String field, Object value, int lengthMin, int lengthMax) {
    if (value == null) return field + " must be a string, got null";
    String s = value.toString();
    int length = s.codePointCount(0, s.length());
    if (length < lengthMin) return lengthMin == 1 ? field + " must not be empty" : field + " is too short";
    if (length > lengthMax) return field + " must be at most " + lengthMax + " characters";
    return null;
  }

  private static String first(String... problems) {
    for (String problem : problems) if (problem != null) return problem;
    return null;
  }

  /** schemas/metadata.ts metadataProblem. */
  private static String metadataProblem(Object value) {
    if (value == null) return null;
    Map<?, ?> metadata = (Map<?, ?>) value;
    if (metadata.size() > metadataKeysMax) return "metadata has " + metadata.size() + " keys; at most " + metadataKeysMax + " are allowed (metadata keysMax)";
    for (Map.Entry<?, ?> entry : metadata.entrySet()) {
      String key = entry.getKey().toString();
      int keyLength = key.codePointCount(0, key.length());
      if (keyLength < 1 || keyLength > metadataKeyLengthMax) return "metadata key \"" + key + "\" must be 1 to " + metadataKeyLengthMax + " characters (metadata keyLengthMax)";
      if (!metadataKey.matcher(key).matches()) return "metadata key \"" + key + "\" may hold only the characters [A-Za-z0-9_.-]";
      String text = entry.getValue().toString();
      if (text.codePointCount(0, text.length()) > metadataValueLengthMax) return "metadata value of \"" + key + "\" must be at most " + metadataValueLengthMax + " characters (metadata valueLengthMax)";
    }
    return null;
  }

  /** routing.ts routingProblem: the record's key must be the accountId, on the partition murmur2 gives it. */
  private String routingProblem(String key, String accountId) {
    if (key == null || !key.equals(accountId)) return "KEY_MISMATCH: record key " + key + " is not the command's accountId " + accountId;
    int expected = partitionOf(accountId, partitions);
    int partition = context.recordMetadata().map((m) -> m.partition()).orElse(expected);
    if (partition != expected) return "WRONG_PARTITION: account " + accountId + " belongs to partition " + expected + " (murmur2 of the accountId), not " + partition;
    return null;
  }

  /** The default partitioner's choice for a key (murmur2, as the ledger's producers and Kafka's). */
  static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
  }

  private static String referenceProblem(GenericRecord p) {
    Object reference = p.get("reference");
    if (reference == null) return null;
    return text("reference", reference, 0, referenceLengthMax);
  }

  // --- helpers ---

  private static GenericRecord payload(Schema schema, Object... fields) {
    GenericRecord record = new GenericData.Record(schema);
    for (int i = 0; i < fields.length; i += 2) record.put((String) fields[i], fields[i + 1]);
    return record;
  }

  static String str(GenericRecord record, String field) {
    Object value = record.get(field);
    return value == null ? null : value.toString();
  }

  static long lng(GenericRecord record, String field) {
    return (Long) record.get(field);
  }

  /** schemas/ids.ts uuidV5: SHA-1 of the ledger's namespace and the name, RFC 4122 §4.3. */
  static String uuidV5(String name) {
    byte[] hash;
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      sha1.update(ledgerNamespace);
      hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    StringBuilder hex = new StringBuilder(36);
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) hex.append('-');
      hex.append(Character.forDigit((hash[i] >> 4) & 0xf, 16)).append(Character.forDigit(hash[i] & 0xf, 16));
    }
    return hex.toString();
  }

  /** schemas/ids.ts fingerprintOf: SHA-256 of JSON.stringify of the meaning's [key, value] pairs, keys sorted. */
  static String fingerprintOf(Map<String, Object> meaning) {
    StringBuilder canonical = new StringBuilder("[");
    boolean first = true;
    for (Map.Entry<String, Object> entry : new TreeMap<>(meaning).entrySet()) {
      if (!first) canonical.append(',');
      first = false;
      canonical.append('[');
      jsonString(canonical, entry.getKey());
      canonical.append(',');
      Object value = entry.getValue();
      if (value == null) canonical.append("null");
      else if (value instanceof Long || value instanceof Integer) canonical.append(value);
      else jsonString(canonical, value.toString());
      canonical.append(']');
    }
    canonical.append(']');
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
      StringBuilder hex = new StringBuilder(64);
      for (byte b : digest) hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void jsonString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    out.append('"');
  }

  private static byte[] hex(String s) {
    byte[] bytes = new byte[s.length() / 2];
    for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return bytes;
  }

  /** An account's state (schemas/account-state.avsc) as the rules use it. */
  static final class Account {
    String accountId;
    String ownerName;
    String currency;
    long balance;
    boolean closed;
    long version;
    long openedAt;
    long updatedAt;
    long outgoingInFlight;
    long heldBalance;
    long overdraftLimit;

    static Account of(GenericRecord r) {
      Account a = new Account();
      a.accountId = str(r, "accountId");
      a.ownerName = str(r, "ownerName");
      a.currency = str(r, "currency");
      a.balance = lng(r, "balance");
      a.closed = "CLOSED".equals(str(r, "status"));
      a.version = lng(r, "version");
      a.openedAt = lng(r, "openedAt");
      a.updatedAt = lng(r, "updatedAt");
      a.outgoingInFlight = lng(r, "outgoingInFlight");
      a.heldBalance = lng(r, "heldBalance");
      a.overdraftLimit = lng(r, "overdraftLimit");
      return a;
    }

    Account copy() {
      Account a = new Account();
      a.accountId = accountId;
      a.ownerName = ownerName;
      a.currency = currency;
      a.balance = balance;
      a.closed = closed;
      a.version = version;
      a.openedAt = openedAt;
      a.updatedAt = updatedAt;
      a.outgoingInFlight = outgoingInFlight;
      a.heldBalance = heldBalance;
      a.overdraftLimit = overdraftLimit;
      return a;
    }

    GenericRecord toRecord(Schema schema) {
      GenericRecord r = new GenericData.Record(schema);
      r.put("accountId", accountId);
      r.put("ownerName", ownerName);
      r.put("currency", currency);
      r.put("balance", balance);
      r.put("status", new GenericData.EnumSymbol(schema.getField("status").schema(), closed ? "CLOSED" : "OPEN"));
      r.put("version", version);
      r.put("openedAt", openedAt);
      r.put("updatedAt", updatedAt);
      r.put("outgoingInFlight", outgoingInFlight);
      r.put("heldBalance", heldBalance);
      r.put("overdraftLimit", overdraftLimit);
      return r;
    }
  }

  /** The codecs of the four schemas, and the payload records of the two unions by name. */
  static final class Codecs {
    final AvroCodec commands;
    final AvroCodec events;
    final AvroCodec states;
    final AvroCodec outcomes;
    final AvroCodec movements;
    final Map<String, Schema> commandPayloads = new HashMap<>();
    final Map<String, Schema> eventPayloads = new HashMap<>();

    Codecs(AvroCodec commands, AvroCodec events, AvroCodec states, AvroCodec outcomes, AvroCodec movements) {
      this.commands = commands;
      this.events = events;
      this.states = states;
      this.outcomes = outcomes;
      this.movements = movements;
      for (Schema s : commands.schema.getField("payload").schema().getTypes()) commandPayloads.put(s.getName(), s);
      for (Schema s : events.schema.getField("payload").schema().getTypes()) eventPayloads.put(s.getName(), s);
    }
  }
}
