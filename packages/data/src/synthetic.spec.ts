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

      /** Topic and position in the topic's order of every step, per user. */
      const walksOf = (options: SyntheticOptions): Array<{ topics: number[]; positions: number[] }> => {
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        return Array.from({ length: dataset.userCount }, (_, user) => ({
          topics: topicsOfUser(dataset, catalogue, user),
          positions: Array.from(dataset.items.subarray(dataset.offsets[user], dataset.offsets[user + 1]), (item) => catalogue.positionInTopic[Number(dataset.rawItemIds[item])]),
        }));
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
        for (const { topics, positions } of walksOf(options)) {
          const session = [0, 1, 2, 4, 5, 6, 8, 9, 10];

          expect(session.map((step) => topics[step])).toEqual(session.map(() => topics[0]));
          expect([3, 7, 11].every((step) => topics[step] !== topics[0])).toBe(true);
          for (const step of [4, 8]) {
            expect([1, 2]).toContain((positions[step] - positions[step - 2] + 50) % 50);
          }
        }
      });

      it('puts a cue session before each return', () => {
        // Returns at steps 3, 7 and 11 with returnCue 2: steps 1–2, 5–6 and 9–10 walk the
        // partner topic (t + ⌊4 / 2⌋) mod 4 of the return's topic t. Steps 0, 4 and 8 start
        // sessions elsewhere, because every step starts one (sessionProbability 0).
        const options: SyntheticOptions = { ...base, returnCue: 2 };
        for (const { topics, positions } of walksOf(options)) {
          const partner = (topics[3] + 2) % 4;

          expect([3, 7, 11].map((step) => topics[step])).toEqual([topics[3], topics[3], topics[3]]);
          expect([1, 2, 5, 6, 9, 10].map((step) => topics[step])).toEqual([1, 2, 5, 6, 9, 10].map(() => partner));
          for (const step of [2, 6, 10]) {
            expect([1, 2]).toContain((positions[step] - positions[step - 1] + 50) % 50);
          }
        }
      });

      it('puts cue sessions on the reserved topic with returnCueTopic reserved', () => {
        // Returns at steps 3, 7 and 11 with returnCue 2 on the reserved topic 3. Every other
        // step continues the running session (sessionProbability 1): step 0 starts an ordinary
        // session, and steps 4 and 8 continue the session that the return before them started on
        // the interest topic.
        const options: SyntheticOptions = { ...base, sessionProbability: 1, returnCue: 2, returnCueTopic: 'reserved' };
        for (const { topics, positions } of walksOf(options)) {
          const interest = topics[3];

          expect(interest).not.toBe(3);
          expect([3, 4, 7, 8, 11].map((step) => topics[step])).toEqual([interest, interest, interest, interest, interest]);
          expect([1, 2, 5, 6, 9, 10].map((step) => topics[step])).toEqual([3, 3, 3, 3, 3, 3]);
          expect([3, interest]).not.toContain(topics[0]);
          for (const step of [2, 4, 6, 8, 10]) {
            expect([1, 2]).toContain((positions[step] - positions[step - 1] + 50) % 50);
          }
        }
      });

      it('needs a topic for cues and one for ordinary sessions with returnCueTopic reserved', () => {
        // 4 topics: the reserved one, 2 interests and 1 ordinary topic is the most that fits.
        expect(() => generateSynthetic({ ...base, interestsPerUser: 2, returnCue: 2, returnCueTopic: 'reserved' })).not.toThrow();
        expect(() => generateSynthetic({ ...base, interestsPerUser: 3, returnCue: 2, returnCueTopic: 'reserved' })).toThrow(
          "invalid synthetic.interestsPerUser: expected an integer <= topics − 2 (2) with returnCueTopic 'reserved'",
        );
        expect(() => generateSynthetic({ ...base, returnCue: 2, returnCueTopic: 'nearby' as 'reserved' })).toThrow("invalid synthetic.returnCueTopic: expected 'partner' or 'reserved'");
      });

      it('counts the schedule from the last step with returnAnchor end', () => {
        // Lengths 9 to 14 and period 4: the last step and every 4th before it are returns, so
        // their positions depend on the length. Each comes after a 1-item cue on the reserved topic.
        const options: SyntheticOptions = { ...base, minLength: 9, meanLength: 11, maxLength: 14, returnAnchor: 'end', returnCue: 1, returnCueTopic: 'reserved' };
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        const lengths = new Set<number>();
        for (let user = 0; user < dataset.userCount; user++) {
          const topics = topicsOfUser(dataset, catalogue, user);
          const last = topics.length - 1;
          const returns = [last, last - 4, last - 8, last - 12].filter((step) => step >= 0);
          const cues = returns.map((step) => step - 1).filter((step) => step >= 0);
          lengths.add(topics.length);

          expect(topics.flatMap((topic, step) => (topic === topics[last] ? [step] : []))).toEqual([...returns].reverse());
          expect(topics.flatMap((topic, step) => (topic === 3 ? [step] : []))).toEqual([...cues].reverse());
        }
        expect(lengths.size).toBeGreaterThan(2);
        expect(() => generateSynthetic({ ...base, returnAnchor: 'middle' as 'end' })).toThrow("invalid synthetic.returnAnchor: expected 'start' or 'end'");
      });

      it('keeps interest topics apart from ordinary sessions with interestTopics', () => {
        // 8 topics: 7 is the reserved cue topic, 5 and 6 are kept for interests, 0 to 4 are ordinary.
        const options: SyntheticOptions = { ...base, users: 60, topics: 8, returnCue: 1, returnCueTopic: 'reserved', interestTopics: 2 };
        const dataset = generateSynthetic(options);
        const catalogue = generateSyntheticCatalogue(options);
        const interests = new Set<number>();
        for (let user = 0; user < dataset.userCount; user++) {
          const topics = topicsOfUser(dataset, catalogue, user);
          interests.add(topics[3]);

          expect([3, 7, 11].map((step) => topics[step])).toEqual([topics[3], topics[3], topics[3]]);
          expect([2, 6, 10].map((step) => topics[step])).toEqual([7, 7, 7]);
          for (const step of [0, 1, 4, 5, 8, 9]) {
            expect(topics[step]).toBeLessThan(5);
          }
        }
        expect([...interests].sort()).toEqual([5, 6]);
        expect(() => generateSynthetic({ ...options, interestTopics: 7 })).toThrow('invalid synthetic.interestTopics: expected 0 or an integer in [interestsPerUser, topics − 2] = [1, 6]');
        expect(() => generateSynthetic({ ...options, interestsPerUser: 3 })).toThrow('= [3, 6]');
      });

      it('keeps partner cues off interest topics', () => {
        // 8 topics: a partner cue of topic t walks t + 4, so at most 4 interest topics (4 to 7)
        // leave every partner (0 to 3) outside them.
        const options: SyntheticOptions = { ...base, users: 40, topics: 8, returnCue: 1, interestTopics: 4 };
        for (const { topics } of walksOf(options)) {
          expect([2, 6, 10].map((step) => topics[step])).toEqual([2, 6, 10].map(() => topics[3] - 4));
          expect(topics[3]).toBeGreaterThanOrEqual(4);
        }
        expect(() => generateSynthetic({ ...options, interestTopics: 5 })).toThrow(
          "invalid synthetic.interestTopics: expected an integer <= ⌊topics / 2⌋ (4) with partner cues, whose topics would otherwise be interest topics; or use returnCueTopic 'reserved'",
        );
      });

      it('names the topic count when a reserved cue leaves no ordinary topic', () => {
        expect(() => generateSynthetic({ ...base, topics: 2, returnCue: 1, returnCueTopic: 'reserved' })).toThrow('so at least 3 topics with returns');
      });

      it('is recorded in source.params', () => {
        expect(generateSynthetic({ ...base, interestTopics: 2 }).source.params).toMatchObject({ interestTopics: 2 });
        expect(defaults.source.params).toMatchObject({ interestTopics: 0 });
        expect(generateSynthetic({ ...base, returnAnchor: 'end' }).source.params).toMatchObject({ returnAnchor: 'end' });
        expect(defaults.source.params).toMatchObject({ returnAnchor: 'start' });
        expect(generateSynthetic({ ...base, returnCue: 2, returnCueTopic: 'reserved' }).source.params).toMatchObject({ returnCueTopic: 'reserved' });
        expect(defaults.source.params).toMatchObject({ returnCueTopic: 'partner' });
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
        meanLength: 175,
        minLength: 150,
        maxLength: 200,
        seed: 3,
        popularitySkew: 0.5,
        sessionProbability: 0.75,
        repeatProbability: 0,
      };
      const strongOptions: SyntheticOptions = {
        ...shared,
        interestsPerUser: 1,
        longTermStrength: 0,
        returnPeriod: 40,
        returnAnchor: 'end',
        returnCue: 2,
        returnCueTopic: 'reserved',
        returnStart: 'popular',
        interestTopics: 10,
      };
      const withoutOptions: SyntheticOptions = { ...shared, interestsPerUser: 0, longTermStrength: 0 };
      const strong = generateSynthetic(strongOptions);
      const without = generateSynthetic(withoutOptions);
      const catalogue = generateSyntheticCatalogue(shared);

      it('ends every history with a return after a cue', () => {
        // Interests come from topics 29 to 38 and cues from topic 39. The target, the last
        // item, is the most popular item of the user's interest that the input lacks, and
        // the two items before it are the cue.
        const lengths = new Set<number>();
        for (let user = 0; user < strong.userCount; user++) {
          const topics = topicsOfUser(strong, catalogue, user);
          const items = Array.from(strong.items.subarray(strong.offsets[user], strong.offsets[user + 1]), (item) => Number(strong.rawItemIds[item]));
          const last = items.length - 1;
          const interest = topics[last];
          const unconsumed = Array.from(catalogue.topicItems[interest]).filter((item) => !items.slice(0, last).includes(item));
          const mostPopular = unconsumed.reduce((best, item) => (catalogue.popularity[item] > catalogue.popularity[best] ? item : best));
          lengths.add(items.length);

          expect(interest).toBeGreaterThanOrEqual(29);
          expect(interest).toBeLessThanOrEqual(38);
          expect(items[last]).toBe(mostPopular);
          expect([topics[last - 2], topics[last - 1]]).toEqual([39, 39]);
          expect(topics.flatMap((topic, step) => (topic === 39 ? [step] : []))).toEqual(
            Array.from({ length: Math.floor((items.length - 2) / 40) + 1 }, (_, n) => [last - 40 * n - 2, last - 40 * n - 1])
              .reverse()
              .flat()
              .filter((step) => step >= 0),
          );
        }
        expect(Math.min(...lengths)).toBe(150);
        expect(lengths.size).toBeGreaterThan(20);
      });

      it('puts most test targets out of the window', () => {
        // Here the window keeps ⌊199 · 0.125⌋ = 24 of the input items. The interest topic was
        // last started 40 steps before the target, and its session reaches the window only if
        // it goes on for 16 more steps, with chance 0.75^16, below the 0.75^15 that the bound
        // allows. No other session uses the topic.
        const shares = outOfWindowShares(strong, catalogue);
        const share = 1 - 0.75 ** 15;

        expect(shares.topic).toBeGreaterThanOrEqual(share - 3 * Math.sqrt((share * (1 - share)) / strong.userCount));
        expect(shares.inHistory).toBe(0);
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
        expect(strong.source.params).toMatchObject({ interestsPerUser: 1, returnPeriod: 40, returnAnchor: 'end', returnCue: 2, returnCueTopic: 'reserved', interestTopics: 10 });
        expect(defaults.source.params).toMatchObject({
          interestPhase: 0,
          finalReturns: 0,
          returnStart: 'resume',
          returnGap: 0,
          returnPeriod: 0,
          returnCue: 0,
          returnCueTopic: 'partner',
          returnAnchor: 'start',
          interestTopics: 0,
        });
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
      ['synthetic.returnCue', { returnPeriod: 3, returnCue: 3 }, '0 unless returnCue < returnPeriod (3) and topics (25) >= 2', 3],
      ['synthetic.returnPeriod', { interestsPerUser: 0, returnPeriod: 4 }, '0 when interestsPerUser is 0, because a return needs an interest topic', 4],
      ['synthetic.interestTopics', { interestsPerUser: 0, interestTopics: 3 }, '0 when interestsPerUser is 0, because no user would have those topics', 3],
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
