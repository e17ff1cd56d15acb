import { createHash } from 'node:crypto';
import { thrownBy } from './__fixtures__/temp-files';
import { invalidArgument } from './messages';
import { leaveOneOut } from './split';
import { datasetStats } from './stats';
import { generateSynthetic, generateSyntheticCatalogue, solveExponentialScale, type SyntheticCatalogue, type SyntheticOptions } from './synthetic';
import type { SequenceDataset } from './types';

/** HR@10 on the leave-one-out test targets of a popularity ranking and of a first-order Markov chain. */
function hitRatesAt10(dataset: SequenceDataset): { popularity: number; markov: number } {
  const split = leaveOneOut(dataset);
  const catalogue = dataset.itemCount + 1;

  // Counts from the training part only.
  const popularity = new Float64Array(catalogue); // [items + 1]
  const transitions = new Float64Array(catalogue * catalogue); // [items + 1, items + 1], row-major
  for (let user = 0; user < dataset.userCount; user++) {
    const start = dataset.offsets[user];
    for (let k = start; k < start + split.trainEnd[user]; k++) {
      popularity[dataset.items[k]]++;
      if (k > start) {
        transitions[dataset.items[k - 1] * catalogue + dataset.items[k]]++;
      }
    }
  }

  // Rank: count items scored strictly higher, ties to the lower id.
  const inTop10 = (scores: ArrayLike<number>, target: number): boolean => {
    let better = 0;
    for (let item = 1; item < catalogue; item++) {
      if (scores[item] > scores[target] || (scores[item] === scores[target] && item < target)) {
        better++;
      }
    }
    return better < 10;
  };
  let popularityHits = 0;
  let markovHits = 0;
  const { users, inputEnd, targets } = split.test;
  for (let j = 0; j < users.length; j++) {
    const last = dataset.items[dataset.offsets[users[j]] + inputEnd[j] - 1];
    const row = transitions.subarray(last * catalogue, (last + 1) * catalogue);
    const scores = Array.from(row, (count, item) => count + 1e-6 * popularity[item]);
    popularityHits += inTop10(popularity, targets[j]) ? 1 : 0;
    markovHits += inTop10(scores, targets[j]) ? 1 : 0;
  }
  return { popularity: popularityHits / users.length, markov: markovHits / users.length };
}

/**
 * Long-term returns found through the catalogue: a topic change to an item one or two steps
 * after the previous item of that topic, at least 3 positions back.
 */
function longTermReturns(dataset: SequenceDataset, catalogue: SyntheticCatalogue): { share: number; distances: number[] } {
  const topicOf = (item: number): number => catalogue.topicOfItem[Number(dataset.rawItemIds[item])];
  const positionOf = (item: number): number => catalogue.positionInTopic[Number(dataset.rawItemIds[item])];
  const distances: number[] = [];
  for (let user = 0; user < dataset.userCount; user++) {
    const lastIndexOfTopic = new Map<number, number>();
    for (let k = dataset.offsets[user]; k < dataset.offsets[user + 1]; k++) {
      const topic = topicOf(dataset.items[k]);
      const previous = lastIndexOfTopic.get(topic);
      if (k > dataset.offsets[user] && topicOf(dataset.items[k - 1]) !== topic && previous !== undefined && k - previous > 2) {
        const size = catalogue.topicItems[topic].length;
        const step = (positionOf(dataset.items[k]) - positionOf(dataset.items[previous]) + size) % size;
        if (step === 1 || step === 2) {
          distances.push(k - previous);
        }
      }
      lastIndexOfTopic.set(topic, k);
    }
  }
  distances.sort((a, b) => a - b);
  return { share: distances.length / dataset.items.length, distances };
}

/** SHA-256 of a dataset's offsets, item ids and timestamps, as stored bytes. */
function datasetHash(dataset: SequenceDataset): string {
  const hash = createHash('sha256');
  for (const array of [dataset.offsets, dataset.items, dataset.timestamps as Float64Array]) {
    hash.update(Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  }
  return hash.digest('hex');
}

/** Topic of every item of `user`, in order, read through the catalogue. */
function topicsOfUser(dataset: SequenceDataset, catalogue: SyntheticCatalogue, user: number): number[] {
  return Array.from(dataset.items.subarray(dataset.offsets[user], dataset.offsets[user + 1]), (item) => catalogue.topicOfItem[Number(dataset.rawItemIds[item])]);
}

/** Fraction of the newest history that the `window` strategy keeps at compression ratio 0.875. */
const WINDOW_SHARE = 0.125;

/**
 * Shares of users whose leave-one-out test target belongs to a topic last seen before the
 * newest `WINDOW_SHARE` of the input. `topic` counts every such target. `successor` counts
 * only targets one or two steps after that last item along the topic order, which a model
 * can predict from the item itself. `inHistory` is the share whose target is already in the
 * input, which the evaluation excludes from the ranking.
 */
function outOfWindowShares(dataset: SequenceDataset, catalogue: SyntheticCatalogue): { topic: number; successor: number; inHistory: number } {
  const topicOf = (item: number): number => catalogue.topicOfItem[Number(dataset.rawItemIds[item])];
  const positionOf = (item: number): number => catalogue.positionInTopic[Number(dataset.rawItemIds[item])];
  const counts = { topic: 0, successor: 0, inHistory: 0 };
  for (let user = 0; user < dataset.userCount; user++) {
    const start = dataset.offsets[user];
    const inputLength = dataset.offsets[user + 1] - start - 1;
    const target = dataset.items[start + inputLength];
    const windowStart = inputLength - Math.max(1, Math.floor(inputLength * WINDOW_SHARE));

    // The last input item of the target's topic, searched from the newest.
    let previous = -1;
    for (let k = inputLength - 1; k >= 0; k--) {
      if (dataset.items[start + k] === target) {
        counts.inHistory++;
        break;
      }
    }
    for (let k = inputLength - 1; k >= 0 && previous < 0; k--) {
      if (topicOf(dataset.items[start + k]) === topicOf(target)) {
        previous = k;
      }
    }
    if (previous < 0 || previous >= windowStart) {
      continue;
    }
    counts.topic++;
    const size = catalogue.topicItems[topicOf(target)].length;
    const step = (positionOf(target) - positionOf(dataset.items[start + previous]) + size) % size;
    counts.successor += step === 1 || step === 2 ? 1 : 0;
  }
  return { topic: counts.topic / dataset.userCount, successor: counts.successor / dataset.userCount, inHistory: counts.inHistory / dataset.userCount };
}

describe('generateSynthetic', () => {
  const defaults = generateSynthetic();

  describe('determinism', () => {
    const options: SyntheticOptions = { users: 80, items: 60, meanLength: 20, maxLength: 50, seed: 11 };

    it('repeats for the same seed', () => {
      const first = generateSynthetic(options);
      const second = generateSynthetic(options);

      expect(second.offsets).toEqual(first.offsets);
      expect(second.items).toEqual(first.items);
      expect(second.timestamps).toEqual(first.timestamps);
      expect(second.rawItemIds).toEqual(first.rawItemIds);
    });

    it('differs for another seed', () => {
      const first = generateSynthetic(options);
      const other = generateSynthetic({ ...options, seed: 12 });
      const length = Math.min(first.items.length, other.items.length);
      let differences = 0;
      for (let k = 0; k < length; k++) {
        differences += first.items[k] === other.items[k] ? 0 : 1;
      }

      expect(differences).toBeGreaterThan(length / 2);
    });

    it('keeps users when adding more', () => {
      const few = generateSynthetic({ ...options, users: 10 });
      const many = generateSynthetic({ ...options, users: 20 });
      const end = few.offsets[10];

      expect(many.offsets.subarray(0, 11)).toEqual(few.offsets);
      expect(Array.from(many.items.subarray(0, end), (id) => many.rawItemIds[id])).toEqual(Array.from(few.items, (id) => few.rawItemIds[id]));
    });
  });

  describe('defaults', () => {
    it('has 1,000 users and 500 items', () => {
      expect(defaults.name).toBe('synthetic');
      expect(defaults.userCount).toBe(1000);
      expect(defaults.itemCount).toBe(500);
    });

    it('keeps lengths in [5, 200] with a mean near 60', () => {
      const { length } = datasetStats(defaults);

      // Standard error of the mean: about 55 / √1000 ≈ 1.7, so ±6 is more than 3 errors.
      expect(length.min).toBeGreaterThanOrEqual(5);
      expect(length.max).toBeLessThanOrEqual(200);
      expect(Math.abs(length.mean - 60)).toBeLessThan(6);
    });

    it('has strictly increasing timestamps per user', () => {
      const timestamps = defaults.timestamps as Float64Array;
      let increasing = true;
      for (let user = 0; user < defaults.userCount; user++) {
        for (let k = defaults.offsets[user] + 1; k < defaults.offsets[user + 1]; k++) {
          increasing &&= timestamps[k] > timestamps[k - 1];
        }
      }

      expect(increasing).toBe(true);
      expect(defaults.ratings).toBeNull();
    });

    it('keeps the output of version 1', () => {
      // The SHA-256 of the default output before returnGap existed.
      expect(datasetHash(defaults)).toBe('a59bf7b34c851d347245d2770a4f8f3e109dc2d4c5630505d3cc8ce608f5a944');
    });

    it('records every setting in source.params', () => {
      expect(defaults.source).toMatchObject({ files: [], format: 'synthetic' });
      expect(defaults.source.params).toMatchObject({
        generatorVersion: 1,
        users: 1000,
        items: 500,
        meanLength: 60,
        maxLength: 200,
        minLength: 5,
        seed: 1,
        popularitySkew: 1,
        sessionProbability: 0.75,
        longTermStrength: 0.5,
        repeatProbability: 0.05,
        topics: 25,
        interestsPerUser: 4,
      });
    });
  });

  describe('structure', () => {
    it('makes next items predictable', () => {
      const rates = hitRatesAt10(defaults);

      expect(rates.markov).toBeGreaterThan(0.5);
      expect(rates.markov).toBeGreaterThan(3 * rates.popularity);
    });

    it('loses that predictability without sessions', () => {
      const flat = generateSynthetic({ users: 300, sessionProbability: 0, longTermStrength: 0, repeatProbability: 0 });
      const rates = hitRatesAt10(flat);

      expect(rates.markov).toBeLessThan(rates.popularity + 0.05);
    });

    it('returns to long-term interests after long gaps', () => {
      const returns = longTermReturns(defaults, generateSyntheticCatalogue());
      const median = returns.distances[returns.distances.length >> 1];
      const p90 = returns.distances[Math.floor(returns.distances.length * 0.9)];

      expect(returns.share).toBeGreaterThan(0.04);
      expect(returns.share).toBeLessThan(0.08);
      expect(median).toBeGreaterThanOrEqual(10);
      expect(p90).toBeGreaterThanOrEqual(30);
    });

    it('has almost no returns when longTermStrength is 0', () => {
      const options = { longTermStrength: 0 };
      const returns = longTermReturns(generateSynthetic(options), generateSyntheticCatalogue(options));

      expect(returns.share).toBeLessThan(0.015);
    });

    describe('returnGap', () => {
      // Every step starts a session (sessionProbability 0), and every session start whose
      // interest is past the gap returns to it (longTermStrength 1), so the gap alone decides
      // which steps hold the interest topic. Browse sessions avoid that topic, and step 0 is
      // always a return because the interest was never visited.
      const base: SyntheticOptions = {
        users: 20,
        items: 200,
        topics: 4,
        meanLength: 12,
        minLength: 12,
        maxLength: 12,
        seed: 5,
        sessionProbability: 0,
        repeatProbability: 0,
        interestsPerUser: 1,
        longTermStrength: 1,
        returnGap: 3,
      };
      const interestSteps = (options: SyntheticOptions): number[][] => {
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        return Array.from({ length: dataset.userCount }, (_, user) => {
          const topics = topicsOfUser(dataset, catalogue, user);
          return topics.flatMap((topic, step) => (topic === topics[0] ? [step] : []));
        });
      };

      it('spaces returns by more than the gap', () => {
        // Steps 1–3 lie 1–3 steps after step 0, not more than 3, so they browse. Step 4
        // returns, then 8; step 12 is past the end.
        for (const steps of interestSteps(base)) {
          expect(steps).toEqual([0, 4, 8]);
        }
      });

      it('keeps interest items out of the steps before the final return', () => {
        // The final return is step 11, so steps 11 − 3 = 8 to 10 hold no interest item, and
        // the return due at step 8 never starts.
        for (const steps of interestSteps({ ...base, finalReturns: 1 })) {
          expect(steps).toEqual([0, 4, 11]);
        }
      });

      it('ends an interest session where those steps begin', () => {
        // Every step continues the session (sessionProbability 1): steps 0–7 stay on the
        // interest, step 8 must start a browse session, which runs to step 10.
        for (const steps of interestSteps({ ...base, sessionProbability: 1, finalReturns: 1 })) {
          expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 11]);
        }
      });

      it('changes nothing at 0', () => {
        // The SHA-256 of this output before returnGap existed.
        const options: SyntheticOptions = {
          users: 100,
          items: 2000,
          topics: 20,
          meanLength: 200,
          minLength: 200,
          maxLength: 200,
          seed: 3,
          popularitySkew: 0.5,
          sessionProbability: 0.5,
          repeatProbability: 0,
          interestsPerUser: 8,
          interestPhase: 0.25,
          longTermStrength: 1,
          finalReturns: 1,
          returnStart: 'popular',
        };

        expect(datasetHash(generateSynthetic({ ...options, returnGap: 0 }))).toBe('dbe4a6217dc32c07d4e57115fa5812a664fc3c3a6c7eb7ebb2d171b6ccae10ab');
      });

      it('is recorded in source.params', () => {
        expect(generateSynthetic(base).source.params).toMatchObject({ returnGap: 3 });
        expect(defaults.source.params).toMatchObject({ returnGap: 0 });
      });
    });

    describe('returnPeriod', () => {
      // Every step starts a session (sessionProbability 0) and no session returns by chance
      // (longTermStrength 0), so only the schedule puts the interest topic in a sequence.
      // Browse sessions avoid that topic.
      const base: SyntheticOptions = {
        users: 20,
        items: 200,
        topics: 4,
        meanLength: 12,
        minLength: 12,
        maxLength: 12,
        seed: 6,
        sessionProbability: 0,
        repeatProbability: 0,
        interestsPerUser: 1,
        longTermStrength: 0,
        returnPeriod: 4,
      };
      const stepsOnTopicOf = (options: SyntheticOptions, reference: number): number[][] => {
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        return Array.from({ length: dataset.userCount }, (_, user) => {
          const topics = topicsOfUser(dataset, catalogue, user);
          return topics.flatMap((topic, step) => (topic === topics[reference] ? [step] : []));
        });
      };

      it('returns at the scheduled steps', () => {
        // Steps whose successor is a multiple of 4: 3, 7 and 11.
        for (const steps of stepsOnTopicOf(base, 3)) {
          expect(steps).toEqual([3, 7, 11]);
        }
      });

      it('skips steps that returnGap keeps free', () => {
        // The final return is step 11 and returnGap 5 frees steps 6 to 10, so the scheduled
        // return at step 7 does not happen.
        for (const steps of stepsOnTopicOf({ ...base, finalReturns: 1, returnGap: 5 }, 3)) {
          expect(steps).toEqual([3, 11]);
        }
      });

      it('continues the running session after a return', () => {
        // Every step but the returns continues the session (sessionProbability 1), so steps
        // 0–2, 4–6 and 8–10 walk one topic's order. The step after a return moves one or two
        // places on from the step before it, wrapping around the topic's 50 items.
        const options: SyntheticOptions = { ...base, sessionProbability: 1 };
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        const positionOf = (item: number): number => catalogue.positionInTopic[Number(dataset.rawItemIds[item])];
        for (let user = 0; user < dataset.userCount; user++) {
          const topics = topicsOfUser(dataset, catalogue, user);
          const items = dataset.items.subarray(dataset.offsets[user], dataset.offsets[user + 1]);
          const session = [0, 1, 2, 4, 5, 6, 8, 9, 10];

          expect(session.map((step) => topics[step])).toEqual(session.map(() => topics[0]));
          expect([3, 7, 11].every((step) => topics[step] !== topics[0])).toBe(true);
          for (const step of [4, 8]) {
            expect([1, 2]).toContain((positionOf(items[step]) - positionOf(items[step - 2]) + 50) % 50);
          }
        }
      });

      it('puts a cue session before each return', () => {
        // Returns at steps 3, 7 and 11 with returnCue 2: steps 1–2, 5–6 and 9–10 walk the
        // partner topic (t + ⌊4 / 2⌋) mod 4 of the return's topic t. Steps 0, 4 and 8 start
        // sessions elsewhere, because every step starts one (sessionProbability 0).
        const options: SyntheticOptions = { ...base, returnCue: 2 };
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        const positionOf = (item: number): number => catalogue.positionInTopic[Number(dataset.rawItemIds[item])];
        for (let user = 0; user < dataset.userCount; user++) {
          const topics = topicsOfUser(dataset, catalogue, user);
          const items = dataset.items.subarray(dataset.offsets[user], dataset.offsets[user + 1]);
          const partner = (topics[3] + 2) % 4;

          expect([3, 7, 11].map((step) => topics[step])).toEqual([topics[3], topics[3], topics[3]]);
          expect([1, 2, 5, 6, 9, 10].map((step) => topics[step])).toEqual([1, 2, 5, 6, 9, 10].map(() => partner));
          for (const step of [2, 6, 10]) {
            expect([1, 2]).toContain((positionOf(items[step]) - positionOf(items[step - 1]) + 50) % 50);
          }
        }
      });

      it('is recorded in source.params', () => {
        expect(generateSynthetic(base).source.params).toMatchObject({ returnPeriod: 4 });
        expect(defaults.source.params).toMatchObject({ returnPeriod: 0 });
      });
    });

    describe('long-term diagnostic settings', () => {
      // The settings of the runner's generator diagnostic, with fewer users.
      const shared: SyntheticOptions = {
        users: 400,
        items: 2000,
        topics: 40,
        meanLength: 200,
        minLength: 200,
        maxLength: 200,
        seed: 3,
        popularitySkew: 0.5,
        sessionProbability: 0.75,
        repeatProbability: 0,
      };
      const strongOptions: SyntheticOptions = { ...shared, interestsPerUser: 4, longTermStrength: 0, returnPeriod: 10, returnCue: 3 };
      const withoutOptions: SyntheticOptions = { ...shared, interestsPerUser: 0, longTermStrength: 0 };
      const strong = generateSynthetic(strongOptions);
      const without = generateSynthetic(withoutOptions);
      const catalogue = generateSyntheticCatalogue(shared);

      it('returns to the item 40 steps back', () => {
        // Steps 9, 19, …, 199 visit the 4 interests in turn, so from step 49 on each is the
        // successor (one or two places on) of the item 40 steps earlier, in the same topic.
        const positionOf = (item: number): number => catalogue.positionInTopic[Number(strong.rawItemIds[item])];
        for (let user = 0; user < strong.userCount; user++) {
          const topics = topicsOfUser(strong, catalogue, user);
          const items = strong.items.subarray(strong.offsets[user], strong.offsets[user + 1]);
          for (let step = 49; step < 200; step += 10) {
            const size = catalogue.topicItems[topics[step]].length;

            expect(topics[step]).toBe(topics[step - 40]);
            expect([1, 2]).toContain((positionOf(items[step]) - positionOf(items[step - 40]) + size) % size);
          }
        }
      });

      it('puts interest topics only at the scheduled steps', () => {
        // Sessions never start on an interest (longTermStrength 0, no interest phase), so the
        // 4 topics of steps 9, 19, 29 and 39 appear nowhere else. The exception is a topic
        // that is the partner (t + 20) mod 40 of another, because cue sessions walk it.
        let usersWithoutPartners = 0;
        for (let user = 0; user < strong.userCount; user++) {
          const topics = topicsOfUser(strong, catalogue, user);
          const interests = new Set([9, 19, 29, 39].map((step) => topics[step]));
          if ([...interests].some((topic) => interests.has((topic + 20) % 40))) {
            continue;
          }
          usersWithoutPartners++;
          const steps = topics.flatMap((topic, step) => (interests.has(topic) ? [step] : []));

          expect(interests.size).toBe(4);
          expect(steps).toEqual(Array.from({ length: 20 }, (_, n) => 10 * n + 9));
        }

        // A partner pair among 4 of 40 topics has chance 1 − (38 · 36 · 34) / (39 · 38 · 37) ≈ 0.15.
        expect(usersWithoutPartners).toBeGreaterThan(0.7 * strong.userCount);
      });

      it('puts most test targets out of the window', () => {
        // The window keeps w = ⌊199 · 0.125⌋ = 24 steps, and the target's topic was last seen 40
        // steps earlier, one or two places before the target in its order. Only a cue session
        // can put an item of that topic later: those before the returns at 169, 179 and 189
        // walk the partner topics of those returns' interests. The target's topic is one of
        // those 3 partners with chance 3 / 39.
        const shares = outOfWindowShares(strong, catalogue);
        const bound = (share: number): number => share - 3 * Math.sqrt((share * (1 - share)) / strong.userCount);

        expect(shares.topic).toBeGreaterThanOrEqual(bound(1 - 3 / 39));
        expect(shares.successor).toBeGreaterThanOrEqual(bound(1 - 3 / 39));
        // 'resume' walks a topic without repeats until it wraps, so only a cue session can consume the target.
        expect(shares.inHistory).toBeLessThanOrEqual(3 / 39);
      });

      it('puts few test targets out of the window without interests', () => {
        // Such a target must start a session (chance 1 − 0.75) at one of the two items after the
        // topic's last item. The start is drawn by popularity inside the topic, so its chance is
        // at most the largest share of a topic's weight held by two of its items.
        const twoItemShares = catalogue.topicItems.map((items) => {
          const weights = Array.from(items, (item) => catalogue.popularity[item]).sort((a, b) => b - a);
          return (weights[0] + weights[1]) / weights.reduce((sum, weight) => sum + weight, 0);
        });
        const bound = 0.25 * Math.max(...twoItemShares);
        const noise = 3 * Math.sqrt((bound * (1 - bound)) / without.userCount);
        const share = outOfWindowShares(without, catalogue).successor;

        expect(share).toBeLessThanOrEqual(bound + noise);
        expect(share).toBeLessThan(outOfWindowShares(strong, catalogue).topic / 2);
      });

      it('records the new settings', () => {
        expect(strong.source.params).toMatchObject({ interestsPerUser: 4, longTermStrength: 0, returnPeriod: 10, returnCue: 3 });
        expect(defaults.source.params).toMatchObject({ interestPhase: 0, finalReturns: 0, returnStart: 'resume', returnGap: 0, returnPeriod: 0, returnCue: 0 });
      });
    });

    it('evaluates every smoke-preset user', () => {
      const smoke = generateSynthetic({ users: 120, items: 60, meanLength: 24, maxLength: 60, seed: 7 });

      expect(smoke.userCount).toBe(120);
      expect(leaveOneOut(smoke).usersTooShort).toBe(0);
    });
  });

  describe('validation', () => {
    it.each([
      ['synthetic.users', { users: 0 }, 'an integer >= 1', 0],
      ['synthetic.items', { items: 2.5 }, 'an integer >= 1', 2.5],
      ['synthetic.seed', { seed: -1 }, 'an integer >= 0', -1],
      ['synthetic.seed', { seed: 2 ** 32 }, 'an integer in [0, 4294967295]', 2 ** 32],
      ['synthetic.minLength', { minLength: 10, maxLength: 5 }, 'an integer <= maxLength (5)', 10],
      ['synthetic.meanLength', { meanLength: 300 }, 'a number in [minLength, maxLength] = [5, 200]', 300],
      ['synthetic.topics', { items: 10, topics: 11 }, 'an integer <= items (10)', 11],
      ['synthetic.interestsPerUser', { topics: 2, interestsPerUser: 3 }, 'an integer <= topics (2)', 3],
      ['synthetic.popularitySkew', { popularitySkew: -1 }, 'a finite number >= 0', -1],
      ['synthetic.sessionProbability', { sessionProbability: 1.5 }, 'a probability in [0, 1]', 1.5],
      ['synthetic.longTermStrength', { longTermStrength: Number.NaN }, 'a probability in [0, 1]', Number.NaN],
      ['synthetic.repeatProbability', { repeatProbability: -0.1 }, 'a probability in [0, 1]', -0.1],
      ['synthetic.interestPhase', { interestPhase: 1.5 }, 'a fraction in [0, 1]', 1.5],
      ['synthetic.finalReturns', { finalReturns: -1 }, 'an integer >= 0', -1],
      ['synthetic.finalReturns', { finalReturns: 6 }, 'an integer <= minLength (5)', 6],
      ['synthetic.finalReturns', { interestsPerUser: 0, finalReturns: 1 }, '0 when interestsPerUser is 0, because a return needs an interest topic', 1],
      ['synthetic.returnStart', { returnStart: 'random' as never }, "'resume' or 'popular'", 'random'],
      ['synthetic.returnGap', { returnGap: -1 }, 'an integer >= 0', -1],
      ['synthetic.returnGap', { returnGap: 2.5 }, 'an integer >= 0', 2.5],
      ['synthetic.returnPeriod', { returnPeriod: -1 }, 'an integer >= 0', -1],
      ['synthetic.returnCue', { returnCue: -1 }, 'an integer >= 0', -1],
      ['synthetic.returnCue', { returnPeriod: 3, returnCue: 3 }, '0 unless returnCue < returnPeriod and topics >= 2', 3],
      ['synthetic.returnPeriod', { interestsPerUser: 0, returnPeriod: 4 }, '0 when interestsPerUser is 0, because a return needs an interest topic', 4],
    ])('rejects an invalid %s', (argument, options, expected, received) => {
      const error = thrownBy(() => generateSynthetic(options));

      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(invalidArgument('generateSynthetic', argument, expected, received));
    });
  });
});

describe('generateSyntheticCatalogue', () => {
  it('splits the items into topics of near-equal size', () => {
    const catalogue = generateSyntheticCatalogue({ items: 103, topics: 5 });
    const sizes = catalogue.topicItems.map((items) => items.length);
    const members = catalogue.topicItems.flatMap((items) => Array.from(items)).sort((a, b) => a - b);

    // 103 / 5 = 20.6: runs of 20 or 21.
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(103);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(members).toEqual(Array.from({ length: 103 }, (_, index) => index + 1));
    catalogue.topicItems.forEach((items, topic) =>
      items.forEach((item, position) => {
        expect(catalogue.topicOfItem[item]).toBe(topic);
        expect(catalogue.positionInTopic[item]).toBe(position);
      }),
    );
  });

  it('gives Zipf popularity weights', () => {
    const catalogue = generateSyntheticCatalogue({ items: 4, topics: 1, popularitySkew: 2 });
    const weights = Array.from(catalogue.popularity.subarray(1)).sort((a, b) => b - a);

    // Ranks 1..4 with exponent 2: 1, 1/4, 1/9, 1/16.
    expect(weights).toEqual([1, 1 / 4, 1 / 9, 1 / 16]);
    expect(catalogue.popularity[0]).toBe(0);
  });
});

describe('solveExponentialScale', () => {
  it('solves the capped mean', () => {
    // E[min(X, 195)] = s·(1 − e^(−195/s)) must equal 55.
    const scale = solveExponentialScale(55, 195);

    expect(scale * (1 - Math.exp(-195 / scale))).toBeCloseTo(55, 9);
  });

  it('handles the edges', () => {
    expect(solveExponentialScale(0, 10)).toBe(0);
    expect(solveExponentialScale(10, 10)).toBe(Number.POSITIVE_INFINITY);
  });
});
