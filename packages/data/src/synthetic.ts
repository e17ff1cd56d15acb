import { InteractionLogBuilder, type InteractionLog } from './interaction-log';
import { invalidArgument, stepGenerated } from './messages';
import { checkNonNegativeInteger, resolvePreprocessOptions } from './options';
import { preprocessLog, type LogDescription } from './preprocess';
import { mixSeed, mulberry32, sampleCumulative, shuffleInPlace } from './prng';
import type { SequenceDataset } from './types';

/** Settings of the synthetic generator; every field is optional and has a default. */
export interface SyntheticOptions {
  /**
   * Number of users. Default value: 1000.
   * @minimum 1
   */
  users?: number;
  /**
   * Number of items in the catalogue. Default value: 500.
   * @minimum 1
   */
  items?: number;
  /** Mean sequence length, in expectation. Default value: 60 (clamped into [minLength, maxLength]). */
  meanLength?: number;
  /**
   * Maximum sequence length. Default value: 200.
   * @minimum 1
   */
  maxLength?: number;
  /**
   * Minimum sequence length. With 3 or more, every user takes part in the leave-one-out
   * split. Default value: 5 (or maxLength when smaller).
   * @minimum 1
   */
  minLength?: number;
  /**
   * Seed of every random choice: the same seed gives identical arrays. Default value: 1.
   * @minimum 0
   * @maximum 4294967295
   */
  seed?: number;
  /**
   * Zipf exponent of item popularity: the item of popularity rank r has weight r^-s.
   * Default value: 1.
   * @minimum 0
   */
  popularitySkew?: number;
  /**
   * Short-term structure: chance that the next item continues the current session, that is,
   * follows the current item along its topic's fixed item order. Default value: 0.75.
   * @minimum 0
   * @maximum 1
   */
  sessionProbability?: number;
  /**
   * Long-range structure: chance that a new session returns to one of the user's long-term
   * interest topics and resumes where the user left that topic, often dozens of items and
   * days earlier. Default value: 0.5.
   * @minimum 0
   * @maximum 1
   */
  longTermStrength?: number;
  /**
   * Chance that a step consumes an earlier item of the same user again (uniform over the
   * history). Default value: 0.05.
   * @minimum 0
   * @maximum 1
   */
  repeatProbability?: number;
  /**
   * Number of topics the catalogue is split into. Default value: items / 20, rounded, at least 1.
   * @minimum 1
   */
  topics?: number;
  /**
   * Long-term interest topics per user, drawn uniformly; sessions that are not returns avoid
   * them. Default value: 4 (or the topic count when smaller).
   * @minimum 0
   */
  interestsPerUser?: number;
  /**
   * Share of each user's history, from the start, in which every new session starts on one
   * of the user's interest topics, taken in turn, so that all interests are shown early.
   * Default value: 0 (no such phase).
   * @minimum 0
   * @maximum 1
   */
  interestPhase?: number;
  /**
   * Number of final items of each sequence that are forced long-term returns: each starts a
   * session on the user's interest topic visited longest ago, about a week later, at the item
   * chosen by `returnStart`. With 1, every leave-one-out test target is such a return.
   * Requires `interestsPerUser >= 1` when above 0. Default value: 0.
   * @minimum 0
   */
  finalReturns?: number;
  /**
   * Start of a session on an interest topic (a return, an interest-phase session or a final
   * return). `'resume'` starts at the item after the one where the user left the topic.
   * `'popular'` starts at the most popular item of the topic that the user has not consumed
   * yet. Default value: `'resume'`.
   */
  returnStart?: 'resume' | 'popular';
  /**
   * Spacing of long-term returns, in steps. A new session may return to an interest topic only
   * when more than `returnGap` steps have passed since the user's previous item of that topic,
   * so the previous item lies outside the newest `returnGap` items. With `finalReturns` above
   * 0, the `returnGap` steps before the final returns also contain no item of an interest
   * topic: no session starts on one, and a session on one ends there. Interest-phase
   * sessions, scheduled returns (`returnPeriod`) and repeats (`repeatProbability`) ignore the
   * gap. Default value: 0 (no spacing).
   * @minimum 0
   */
  returnGap?: number;
  /**
   * Scheduled long-term returns: every step s whose s + 1 is a multiple of `returnPeriod`
   * (steps P − 1, 2P − 1, …) is one item of the user's interest topic visited longest ago,
   * started as `returnStart` sets. With `finalReturns`, the steps that `returnGap` keeps free
   * before the final returns are skipped, and the final returns replace the scheduled ones.
   * The running session (with `returnCue`, the cue session) continues after that item, except
   * after a reserved cue (`returnCueTopic`). With `returnAnchor: 'start'` the steps of a return
   * are the same in every sequence; `returnAnchor: 'end'` counts them from the last step
   * instead. Requires `interestsPerUser >= 1` when above 0. Default value: 0 (no scheduled
   * returns).
   * @minimum 0
   */
  returnPeriod?: number;
  /**
   * With `returnPeriod`, the `returnCue` steps before each scheduled return form a cue
   * session: it starts on a popularity-drawn item of the partner topic
   * `(t + ⌊topics / 2⌋) mod topics` of the return's topic t and walks along its order. A model
   * can then tell from the recent items which topic comes back, and has to find that topic's
   * previous items in the history. Items of a cue session, also after the return, never count
   * as visits of an interest topic. No cue comes before the final returns (`finalReturns`).
   * Requires `returnCue < returnPeriod` and `topics >= 2` when above 0. Default value: 0.
   * @minimum 0
   */
  returnCue?: number;
  /**
   * Topic of the cue sessions. `'partner'`: the partner topic of the returning topic, so the
   * cue names which topic comes back. `'reserved'`: the last topic, `topics − 1`, kept for cues
   * only (never an interest, never the topic of an ordinary session, though a repeat may copy
   * an earlier cue item). Such a cue signals that
   * a return comes but not which topic, and the return starts a session on its interest topic
   * that the following steps continue like any session.
   * Requires `interestsPerUser <= topics − 2` when `'reserved'` and `returnCue` is above 0.
   * Default value: `'partner'`.
   */
  returnCueTopic?: 'partner' | 'reserved';
  /**
   * Origin of the `returnPeriod` steps. `'start'`: steps P − 1, 2P − 1, … from the
   * first item, the same in every sequence. `'end'`: the last step and every P-th step before
   * it, so the last item of every sequence is a scheduled return (unless `finalReturns` puts
   * final returns there). When lengths differ between
   * users, the positions of returns differ too, and a model has to find in the items (a cue,
   * for example) when one comes. Default value: `'start'`.
   */
  returnAnchor?: 'start' | 'end';
  /**
   * Number of topics kept for long-term interests. When above 0, interests are drawn from the
   * last `interestTopics` topics (before the reserved cue topic, if any), and ordinary sessions
   * never use those topics. An item of such a topic in a history then always belongs to the
   * user's interests. When 0, interests are drawn from all topics and ordinary sessions avoid
   * only the user's own. Requires `1 <= interestsPerUser <= interestTopics` and one topic left
   * for ordinary sessions when above 0, and `interestTopics <= ⌊topics / 2⌋` with partner cues,
   * because a partner cue walks topic t + ⌊topics / 2⌋. Default value: 0.
   * @minimum 0
   */
  interestTopics?: number;
}

/** {@link SyntheticOptions} with every default applied. */
export type ResolvedSyntheticOptions = Required<SyntheticOptions>;

/** The item structure shared by all users, derived from the seed, items, topics and skew. */
export interface SyntheticCatalogue {
  /** Popularity weight of each item id, `[items + 1]`; entry 0 (padding) is 0. */
  popularity: Float64Array;
  /** Topic of each item id, `[items + 1]`; entry 0 is -1. */
  topicOfItem: Int32Array;
  /** Position of each item id in its topic's order, `[items + 1]`; entry 0 is -1. */
  positionInTopic: Int32Array;
  /** Item ids of each topic in the order that sessions follow, `[topics][topic size]`. */
  topicItems: Int32Array[];
}

/** Version of the generating procedure, recorded in `source.params`; bump it when output changes. */
export const SYNTHETIC_GENERATOR_VERSION = 1;

/** Chance that a session step skips one item of the topic order (moves 2 instead of 1). */
const SKIP_PROBABILITY = 0.25;
/** First timestamp of the generated data: 2020-09-13 12:26:40 UTC, in seconds. */
const START_TIME = 1_600_000_000;
const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/**
 * Generates the default offline dataset: sequences with session structure, popularity skew and
 * long-term interests that return after long gaps. Deterministic from `seed`.
 *
 * The catalogue is split into topics, and each topic has a fixed item order (think of the
 * episodes of a series). A session walks along one topic's order, one step (sometimes two) at
 * a time, so the next item is predictable from the current one. With probability
 * `longTermStrength` a new session returns to one of the user's long-term interest topics, at
 * the item after the one where the user left it. Otherwise it starts on a popular item of a
 * popularity-drawn topic outside those interests. Predicting a return needs the item seen many
 * positions earlier: with the defaults, about 6 % of interactions are returns, their median
 * distance to the previous item of the topic is about 15 positions and the 90th percentile
 * about 45. Occasionally a user repeats an earlier item. Timestamps are seconds: minutes apart
 * within a session, about a day between sessions and about a week before a long-term return
 * that starts a session (a scheduled return comes minutes after the step before it).
 *
 * `interestPhase`, `finalReturns`, `returnStart`, `returnGap`, `returnPeriod`, `returnAnchor`,
 * `returnCue`, `returnCueTopic` and `interestTopics` (all off by default) strengthen the
 * long-term structure. Every interest is shown early, the last items return to the interest
 * visited longest ago, and returns may start on the most popular item the user has not
 * consumed. With `returnGap`, returns come only after that many steps without the topic, and
 * no interest item comes in that many steps before the final returns. With `returnPeriod`,
 * returns also come at the same steps of every sequence, or counted back from its last step
 * (`returnAnchor`). With `returnCue`, a short session comes just before each of those: it
 * names the returning topic, or with `returnCueTopic: 'reserved'` only signals that a return
 * comes. With `interestTopics`, interests come from topics that no ordinary session uses.
 *
 * Sequence lengths are `minLength` plus a rounded exponential draw, capped at `maxLength`.
 * The exponential's scale is solved so that the mean length is `meanLength` in expectation.
 * Raw ids are `1..users` and `1..items`; items that no user consumed are not in the dataset.
 *
 * @param options - Generator settings; see {@link SyntheticOptions} for the defaults.
 * @returns A dataset named `'synthetic'` with timestamps and no ratings; `source.params`
 *   records every resolved setting.
 * @throws RangeError when an option is out of its range.
 * @example
 * ```ts
 * const dataset = generateSynthetic({ users: 200, seed: 7 });
 * const again = generateSynthetic({ users: 200, seed: 7 }); // identical arrays
 * ```
 */
export function generateSynthetic(options: SyntheticOptions = {}): SequenceDataset {
  const generated = generateSyntheticLog('generateSynthetic', options);
  return preprocessLog('generateSynthetic', generated.log, generated.description, resolvePreprocessOptions('generateSynthetic', {}));
}

/**
 * Generates the synthetic rows and their description without preprocessing; `where` names the
 * public function in error messages.
 */
export function generateSyntheticLog(where: string, options: SyntheticOptions): { log: InteractionLog; description: LogDescription } {
  // Settings and the shared catalogue.
  const settings = resolveSyntheticOptions(where, options);
  const catalogue = buildCatalogue(settings);
  const topicCumulative = cumulativeSums(topicWeights(catalogue));
  const itemCumulativeByTopic = catalogue.topicItems.map((items) => cumulativeSums(Array.from(items, (item) => catalogue.popularity[item])));
  const lengthScale = solveExponentialScale(settings.meanLength - settings.minLength, settings.maxLength - settings.minLength);

  // Users, each from its own random stream.
  const builder = new InteractionLogBuilder(true, false, Math.max(1, Math.ceil(settings.users * settings.meanLength * 1.1)));
  for (let user = 0; user < settings.users; user++) {
    const random = mulberry32(mixSeed(settings.seed, 1, user));
    const length = drawLength(settings, lengthScale, random);
    generateUser(user + 1, length, settings, catalogue, topicCumulative, itemCumulativeByTopic, random, builder);
  }

  // Description recorded in the dataset.
  const log = builder.finish();
  return {
    log,
    description: {
      name: 'synthetic',
      files: [],
      format: 'synthetic',
      params: { generatorVersion: SYNTHETIC_GENERATOR_VERSION, ...settings, lengthScale, skipProbability: SKIP_PROBABILITY },
      steps: [stepGenerated(log.rowCount, log.rawUserIds.length, log.rawItemIds.length, settings.seed)],
    },
  };
}

/**
 * Builds the catalogue of {@link generateSynthetic}: popularity weights, topics and each
 * topic's item order. Deterministic from `seed`, `items`, `topics` and `popularitySkew`.
 *
 * @param options - Generator settings; only the four above matter.
 * @throws RangeError when an option is out of its range.
 * @example
 * ```ts
 * const { topicItems } = generateSyntheticCatalogue({ items: 100, topics: 5 }); // 5 topics of 20 items
 * ```
 */
export function generateSyntheticCatalogue(options: SyntheticOptions = {}): SyntheticCatalogue {
  return buildCatalogue(resolveSyntheticOptions('generateSyntheticCatalogue', options));
}

/**
 * Applies the defaults of {@link SyntheticOptions} and validates the result.
 *
 * @throws RangeError naming `where`, the option, its range and the received value.
 */
export function resolveSyntheticOptions(where: string, options: SyntheticOptions = {}): ResolvedSyntheticOptions {
  // Defaults; some depend on other settings.
  const items = options.items ?? 500;
  const maxLength = options.maxLength ?? 200;
  const minLength = options.minLength ?? Math.min(5, maxLength);
  const topics = options.topics ?? Math.max(1, Math.round(items / 20));
  const settings: ResolvedSyntheticOptions = {
    users: options.users ?? 1000,
    items,
    meanLength: options.meanLength ?? Math.min(Math.max(60, minLength), maxLength),
    maxLength,
    minLength,
    seed: options.seed ?? 1,
    popularitySkew: options.popularitySkew ?? 1,
    sessionProbability: options.sessionProbability ?? 0.75,
    longTermStrength: options.longTermStrength ?? 0.5,
    repeatProbability: options.repeatProbability ?? 0.05,
    topics,
    interestsPerUser: options.interestsPerUser ?? Math.min(4, topics),
    interestPhase: options.interestPhase ?? 0,
    finalReturns: options.finalReturns ?? 0,
    returnStart: options.returnStart ?? 'resume',
    returnGap: options.returnGap ?? 0,
    returnPeriod: options.returnPeriod ?? 0,
    returnCue: options.returnCue ?? 0,
    returnCueTopic: options.returnCueTopic ?? 'partner',
    returnAnchor: options.returnAnchor ?? 'start',
    interestTopics: options.interestTopics ?? 0,
  };

  // Integer counts.
  checkPositiveInteger(where, 'synthetic.users', settings.users);
  checkPositiveInteger(where, 'synthetic.items', settings.items);
  checkPositiveInteger(where, 'synthetic.maxLength', settings.maxLength);
  checkPositiveInteger(where, 'synthetic.minLength', settings.minLength);
  checkPositiveInteger(where, 'synthetic.topics', settings.topics);
  checkNonNegativeInteger(where, 'synthetic.interestsPerUser', settings.interestsPerUser);
  checkNonNegativeInteger(where, 'synthetic.seed', settings.seed);
  checkNonNegativeInteger(where, 'synthetic.finalReturns', settings.finalReturns);
  checkNonNegativeInteger(where, 'synthetic.returnGap', settings.returnGap);
  checkNonNegativeInteger(where, 'synthetic.returnPeriod', settings.returnPeriod);
  if (settings.seed > 0xffffffff) {
    throw new RangeError(invalidArgument(where, 'synthetic.seed', 'an integer in [0, 4294967295]', settings.seed));
  }

  // Relations between settings.
  if (settings.minLength > settings.maxLength) {
    throw new RangeError(invalidArgument(where, 'synthetic.minLength', `an integer <= maxLength (${settings.maxLength})`, settings.minLength));
  }
  if (!isNumberIn(settings.meanLength, settings.minLength, settings.maxLength)) {
    throw new RangeError(
      invalidArgument(where, 'synthetic.meanLength', `a number in [minLength, maxLength] = [${settings.minLength}, ${settings.maxLength}]`, settings.meanLength),
    );
  }
  if (settings.topics > settings.items) {
    throw new RangeError(invalidArgument(where, 'synthetic.topics', `an integer <= items (${settings.items})`, settings.topics));
  }
  if (settings.interestsPerUser > settings.topics) {
    throw new RangeError(invalidArgument(where, 'synthetic.interestsPerUser', `an integer <= topics (${settings.topics})`, settings.interestsPerUser));
  }
  if (settings.finalReturns > settings.minLength) {
    throw new RangeError(invalidArgument(where, 'synthetic.finalReturns', `an integer <= minLength (${settings.minLength})`, settings.finalReturns));
  }
  if (settings.finalReturns > 0 && settings.interestsPerUser === 0) {
    throw new RangeError(invalidArgument(where, 'synthetic.finalReturns', '0 when interestsPerUser is 0, because a return needs an interest topic', settings.finalReturns));
  }
  checkNonNegativeInteger(where, 'synthetic.returnCue', settings.returnCue);
  if (settings.returnCue > 0 && (settings.returnCue >= settings.returnPeriod || settings.topics < 2)) {
    throw new RangeError(
      invalidArgument(where, 'synthetic.returnCue', `0 unless returnCue < returnPeriod (${settings.returnPeriod}) and topics (${settings.topics}) >= 2`, settings.returnCue),
    );
  }
  if (settings.returnCueTopic !== 'partner' && settings.returnCueTopic !== 'reserved') {
    throw new RangeError(invalidArgument(where, 'synthetic.returnCueTopic', "'partner' or 'reserved'", settings.returnCueTopic));
  }
  if (settings.returnAnchor !== 'start' && settings.returnAnchor !== 'end') {
    throw new RangeError(invalidArgument(where, 'synthetic.returnAnchor', "'start' or 'end'", settings.returnAnchor));
  }

  // Topics kept for cues and interests must leave one for ordinary sessions.
  const reservedCue = settings.returnCue > 0 && settings.returnCueTopic === 'reserved';
  if (reservedCue && settings.interestsPerUser > settings.topics - 2) {
    throw new RangeError(
      invalidArgument(
        where,
        'synthetic.interestsPerUser',
        `an integer <= topics − 2 (${settings.topics - 2}) with returnCueTopic 'reserved', which keeps one topic for cues and needs one for ordinary sessions (so at least 3 topics with returns)`,
        settings.interestsPerUser,
      ),
    );
  }
  checkNonNegativeInteger(where, 'synthetic.interestTopics', settings.interestTopics);
  const cueTopicCount = reservedCue ? 1 : 0;
  if (settings.interestTopics > 0 && (settings.interestTopics < settings.interestsPerUser || settings.interestTopics > settings.topics - cueTopicCount - 1)) {
    throw new RangeError(
      invalidArgument(
        where,
        'synthetic.interestTopics',
        `0 or an integer in [interestsPerUser, topics − ${cueTopicCount + 1}] = [${settings.interestsPerUser}, ${settings.topics - cueTopicCount - 1}], which leaves a topic for ordinary sessions`,
        settings.interestTopics,
      ),
    );
  }
  if (settings.interestTopics > 0 && settings.interestsPerUser === 0) {
    throw new RangeError(invalidArgument(where, 'synthetic.interestTopics', '0 when interestsPerUser is 0, because no user would have those topics', settings.interestTopics));
  }
  const halfTopics = Math.floor(settings.topics / 2);
  if (settings.interestTopics > halfTopics && settings.returnCue > 0 && !reservedCue) {
    // A partner cue walks topic t + ⌊topics / 2⌋, which must lie outside the interest topics.
    throw new RangeError(
      invalidArgument(
        where,
        'synthetic.interestTopics',
        `an integer <= ⌊topics / 2⌋ (${halfTopics}) with partner cues, whose topics would otherwise be interest topics; or use returnCueTopic 'reserved'`,
        settings.interestTopics,
      ),
    );
  }
  if (settings.returnPeriod > 0 && settings.interestsPerUser === 0) {
    throw new RangeError(invalidArgument(where, 'synthetic.returnPeriod', '0 when interestsPerUser is 0, because a return needs an interest topic', settings.returnPeriod));
  }

  // Real-valued settings.
  if (!isNumberIn(settings.popularitySkew, 0, Number.MAX_VALUE)) {
    throw new RangeError(invalidArgument(where, 'synthetic.popularitySkew', 'a finite number >= 0', settings.popularitySkew));
  }
  for (const key of ['sessionProbability', 'longTermStrength', 'repeatProbability'] as const) {
    if (!isNumberIn(settings[key], 0, 1)) {
      throw new RangeError(invalidArgument(where, `synthetic.${key}`, 'a probability in [0, 1]', settings[key]));
    }
  }
  if (settings.returnStart !== 'resume' && settings.returnStart !== 'popular') {
    throw new RangeError(invalidArgument(where, 'synthetic.returnStart', "'resume' or 'popular'", settings.returnStart));
  }
  if (!isNumberIn(settings.interestPhase, 0, 1)) {
    throw new RangeError(invalidArgument(where, 'synthetic.interestPhase', 'a fraction in [0, 1]', settings.interestPhase));
  }
  return settings;
}

function checkPositiveInteger(where: string, argument: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(invalidArgument(where, argument, 'an integer >= 1', value));
  }
}

function isNumberIn(value: unknown, low: number, high: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= low && value <= high;
}

/** Popularity by a shuffled Zipf rank, and topics as contiguous runs of a second shuffle. */
function buildCatalogue(settings: ResolvedSyntheticOptions): SyntheticCatalogue {
  const random = mulberry32(mixSeed(settings.seed, 0));
  const { items, topics } = settings;

  // Popularity: a random permutation of ranks 1..items, weight rank^-skew.
  const ranks = shuffleInPlace(Int32Array.from({ length: items }, (_, index) => index + 1), random); // [items]
  const popularity = new Float64Array(items + 1); // [items + 1]
  for (let item = 1; item <= items; item++) {
    popularity[item] = Math.pow(ranks[item - 1], -settings.popularitySkew);
  }

  // Topics: split a shuffled item list into runs whose sizes differ by at most one.
  const order = shuffleInPlace(Int32Array.from({ length: items }, (_, index) => index + 1), random); // [items]
  const topicOfItem = new Int32Array(items + 1).fill(-1); // [items + 1]
  const positionInTopic = new Int32Array(items + 1).fill(-1); // [items + 1]
  const topicItems: Int32Array[] = [];
  for (let topic = 0; topic < topics; topic++) {
    const members = order.slice(Math.floor((topic * items) / topics), Math.floor(((topic + 1) * items) / topics)); // [topic size]
    members.forEach((item, position) => {
      topicOfItem[item] = topic;
      positionInTopic[item] = position;
    });
    topicItems.push(members);
  }
  return { popularity, topicOfItem, positionInTopic, topicItems };
}

function topicWeights(catalogue: SyntheticCatalogue): number[] {
  return catalogue.topicItems.map((items) => items.reduce((sum, item) => sum + catalogue.popularity[item], 0));
}

function cumulativeSums(weights: ArrayLike<number>): Float64Array {
  const sums = new Float64Array(weights.length); // [n]
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i];
    sums[i] = total;
  }
  return sums;
}

/**
 * Scale s of an exponential X such that E[min(X, range)] = s·(1 − e^(−range/s)) equals
 * `target`, by bisection (the left side grows with s from 0 towards `range`). Returns 0 when
 * `target` is 0 and Infinity when `target` reaches `range`.
 */
export function solveExponentialScale(target: number, range: number): number {
  if (target <= 0) {
    return 0;
  }
  if (target >= range) {
    return Number.POSITIVE_INFINITY;
  }
  const cappedMean = (scale: number): number => scale * -Math.expm1(-range / scale);
  let low = 0;
  let high = target;
  while (cappedMean(high) < target) {
    high *= 2;
  }
  for (let iteration = 0; iteration < 100; iteration++) {
    const middle = (low + high) / 2;
    if (cappedMean(middle) < target) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return (low + high) / 2;
}

function drawLength(settings: ResolvedSyntheticOptions, scale: number, random: () => number): number {
  if (scale === 0) {
    return settings.minLength;
  }
  if (scale === Number.POSITIVE_INFINITY) {
    return settings.maxLength;
  }
  const extra = Math.round(-scale * Math.log(1 - random()));
  return Math.min(settings.maxLength, settings.minLength + extra);
}

/** Writes one user's sequence to `builder`. */
function generateUser(
  rawUserId: number,
  length: number,
  settings: ResolvedSyntheticOptions,
  catalogue: SyntheticCatalogue,
  topicCumulative: Float64Array,
  itemCumulativeByTopic: Float64Array[],
  random: () => number,
  builder: InteractionLogBuilder,
): void {
  // Long-term interests, uniform over topics (except a reserved cue topic), and where the user last was in each of them.
  const reservedCue = settings.returnCue > 0 && settings.returnCueTopic === 'reserved';
  const cueTopic = settings.topics - 1; // the reserved cue topic, when `reservedCue`
  const interestPoolEnd = reservedCue ? settings.topics - 1 : settings.topics; // interests come from [interestPoolStart, interestPoolEnd)
  const interestPoolStart = settings.interestTopics > 0 ? interestPoolEnd - settings.interestTopics : 0;
  const interests = drawDistinctTopics(settings.interestsPerUser, interestPoolEnd - interestPoolStart, random).map((topic) => topic + interestPoolStart);
  const lastPosition = new Int32Array(settings.topics).fill(-1); // [topics]
  const isInterest = new Uint8Array(settings.topics); // [topics]
  for (const topic of interests) {
    isInterest[topic] = 1;
  }
  const notOrdinary = Uint8Array.from(isInterest); // [topics], topics that ordinary sessions avoid
  if (reservedCue) {
    notOrdinary[cueTopic] = 1;
  }
  if (settings.interestTopics > 0) {
    notOrdinary.fill(1, interestPoolStart, interestPoolEnd);
  }
  const shortTermCumulative = interests.length < settings.topics || reservedCue ? withoutTopics(topicCumulative, notOrdinary) : topicCumulative; // [topics]
  const lastVisit = new Int32Array(settings.topics).fill(-1); // [topics], step of the last item of each interest topic
  const interestPhaseEnd = Math.ceil(settings.interestPhase * length);
  const finalReturnsStart = length - settings.finalReturns;
  const quietStart = settings.finalReturns > 0 ? finalReturnsStart - settings.returnGap : length; // no interest items in [quietStart, finalReturnsStart)
  let interestTurn = 0;
  const consumed = settings.returnStart === 'popular' ? new Uint8Array(settings.items + 1) : null; // [items + 1]
  const startOnInterest = (interest: number): number =>
    consumed === null ? resumePosition(interest, lastPosition, catalogue, itemCumulativeByTopic, random) : unconsumedPosition(interest, consumed, catalogue, itemCumulativeByTopic, random);

  // Walk through sessions.
  const history = new Int32Array(length); // [length]
  let time = START_TIME + Math.floor(random() * 30 * DAY);
  let topic = 0;
  let position = 0;
  let cueSession = false; // the running session is a cue session, whose items are never interest visits
  for (let step = 0; step < length; step++) {
    let item: number;
    const period = Math.max(1, settings.returnPeriod);
    const stepsToReturn = settings.returnAnchor === 'end' ? (length - 1 - step) % period : period - 1 - (step % period); // 0 at a scheduled step
    const scheduledReturn = settings.returnPeriod > 0 && stepsToReturn === 0 && step < quietStart;
    const inCue = settings.returnCue > 0 && stepsToReturn >= 1 && stepsToReturn <= settings.returnCue && step + stepsToReturn < Math.min(quietStart, finalReturnsStart);
    if (inCue) {
      // Cue session of the next scheduled return, on its topic's partner topic or the reserved
      // one. With `returnAnchor: 'end'` a history may begin inside a cue, which then starts at step 0.
      if (stepsToReturn === settings.returnCue || step === 0) {
        topic = reservedCue ? cueTopic : (leastRecentTopic(interests, lastVisit) + Math.floor(settings.topics / 2)) % settings.topics;
        position = sampleCumulative(itemCumulativeByTopic[topic], random);
        cueSession = true;
        time += HOUR + exponential(DAY, random);
      } else {
        position = advance(position, catalogue.topicItems[topic].length, random);
        time += MINUTE / 2 + random() * 9.5 * MINUTE;
      }
      item = catalogue.topicItems[topic][position];
    } else if (scheduledReturn && step < finalReturnsStart) {
      // Scheduled return: one item of the interest topic visited longest ago, inside the running session.
      const interest = leastRecentTopic(interests, lastVisit);
      const start = startOnInterest(interest);
      item = catalogue.topicItems[interest][start];
      lastPosition[interest] = start;
      lastVisit[interest] = step;
      time += MINUTE + random() * 9 * MINUTE;
      if (reservedCue) {
        // The cue session ends: the return starts a session on its interest topic.
        topic = interest;
        position = start;
        cueSession = false;
      }
    } else if (step >= finalReturnsStart) {
      // Forced return to the interest topic visited longest ago (never visited counts as oldest).
      topic = leastRecentTopic(interests, lastVisit);
      position = startOnInterest(topic);
      cueSession = false;
      time += DAY + exponential(7 * DAY, random);
      item = catalogue.topicItems[topic][position];
      lastPosition[topic] = position;
      lastVisit[topic] = step;
    } else if (step > 0 && random() < settings.repeatProbability) {
      // Repeat an earlier item; the session state stays as it was.
      item = history[Math.floor(random() * step)];
      time += MINUTE + random() * 9 * MINUTE;
    } else {
      const quiet = step >= quietStart;
      const returnTopics = quiet ? [] : topicsPastGap(interests, lastVisit, step, settings.returnGap);
      if (step > 0 && random() < settings.sessionProbability && !(quiet && isInterest[topic] === 1)) {
        // Continue the session along the topic order; before the final returns, only outside the interests.
        position = advance(position, catalogue.topicItems[topic].length, random);
        time += MINUTE / 2 + random() * 9.5 * MINUTE;
      } else if (step < interestPhaseEnd && interests.length > 0 && !quiet) {
        // Interest phase: the next interest topic in turn, started as `returnStart` sets.
        topic = interests[interestTurn % interests.length];
        interestTurn++;
        position = startOnInterest(topic);
        cueSession = false;
        time += HOUR + exponential(DAY, random);
      } else if (returnTopics.length > 0 && random() < settings.longTermStrength) {
        // Return to a long-term interest whose gap has passed, started as `returnStart` sets.
        topic = returnTopics[Math.floor(random() * returnTopics.length)];
        position = startOnInterest(topic);
        cueSession = false;
        time += DAY + exponential(7 * DAY, random);
      } else {
        // Start a session on a popular item of a popular topic outside the long-term interests.
        topic = sampleCumulative(shortTermCumulative, random);
        position = sampleCumulative(itemCumulativeByTopic[topic], random);
        cueSession = false;
        time += HOUR + exponential(DAY, random);
      }
      item = catalogue.topicItems[topic][position];
      if (isInterest[topic] === 1 && !cueSession) {
        lastPosition[topic] = position;
        lastVisit[topic] = step;
      }
    }
    history[step] = item;
    if (consumed !== null) {
      consumed[item] = 1;
    }
    builder.add(rawUserId, item, Math.round(time));
  }
}

/** Position after the one where the user left `topic`, or a popularity-drawn start when the user never visited it. */
function resumePosition(topic: number, lastPosition: Int32Array, catalogue: SyntheticCatalogue, itemCumulativeByTopic: Float64Array[], random: () => number): number {
  if (lastPosition[topic] >= 0) {
    return advance(lastPosition[topic], catalogue.topicItems[topic].length, random);
  }
  return sampleCumulative(itemCumulativeByTopic[topic], random);
}

/**
 * Position of the most popular item of `topic` that is not `consumed` (ties to the earlier
 * position), or a popularity-drawn one when the user consumed them all.
 */
function unconsumedPosition(topic: number, consumed: Uint8Array, catalogue: SyntheticCatalogue, itemCumulativeByTopic: Float64Array[], random: () => number): number {
  const items = catalogue.topicItems[topic];
  let best = -1;
  for (let position = 0; position < items.length; position++) {
    if (consumed[items[position]] === 0 && (best < 0 || catalogue.popularity[items[position]] > catalogue.popularity[items[best]])) {
      best = position;
    }
  }
  return best >= 0 ? best : sampleCumulative(itemCumulativeByTopic[topic], random);
}

/**
 * Interest topics whose previous item lies more than `gap` steps before `step`, in the order of
 * `topics`. With `gap` 0 that is every topic, because every earlier step is before `step`.
 */
function topicsPastGap(topics: readonly number[], lastVisit: Int32Array, step: number, gap: number): readonly number[] {
  if (gap === 0) {
    return topics;
  }
  return topics.filter((topic) => lastVisit[topic] < 0 || step - lastVisit[topic] > gap);
}

/** Returns the topic of `topics` with the smallest last-visit step; ties go to the earlier entry. */
function leastRecentTopic(topics: readonly number[], lastVisit: Int32Array): number {
  let best = topics[0];
  for (const topic of topics) {
    if (lastVisit[topic] < lastVisit[best]) {
      best = topic;
    }
  }
  return best;
}

/** Moves 1 step along a topic order, or 2 with probability {@link SKIP_PROBABILITY}, wrapping around. */
function advance(position: number, topicSize: number, random: () => number): number {
  const step = random() < SKIP_PROBABILITY ? 2 : 1;
  return (position + step) % topicSize;
}

function exponential(mean: number, random: () => number): number {
  return -mean * Math.log(1 - random());
}

/** `count` distinct topics out of `topics`, uniformly without replacement (partial Fisher–Yates). */
function drawDistinctTopics(count: number, topics: number, random: () => number): number[] {
  const pool = Int32Array.from({ length: topics }, (_, topic) => topic); // [topics]
  for (let draw = 0; draw < count; draw++) {
    const pick = draw + Math.floor(random() * (topics - draw));
    const swap = pool[draw];
    pool[draw] = pool[pick];
    pool[pick] = swap;
  }
  return Array.from(pool.subarray(0, count));
}

/** Running sums of the topic weights with the flagged topics set to weight 0. */
function withoutTopics(cumulative: Float64Array, excluded: Uint8Array): Float64Array {
  const weights = Array.from(cumulative, (sum, topic) => (excluded[topic] === 1 ? 0 : sum - (topic === 0 ? 0 : cumulative[topic - 1])));
  return cumulativeSums(weights);
}
