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

    describe('long-term diagnostic settings', () => {
      // The settings of the runner's generator diagnostic, with fewer users.
      const shared: SyntheticOptions = {
        users: 400,
        items: 2000,
        topics: 20,
        meanLength: 200,
        minLength: 200,
        maxLength: 200,
        seed: 3,
        popularitySkew: 0.5,
        sessionProbability: 0.5,
        repeatProbability: 0,
      };
      const strongOptions: SyntheticOptions = { ...shared, interestsPerUser: 8, interestPhase: 0.25, longTermStrength: 1, finalReturns: 1, returnStart: 'popular' };
      const withoutOptions: SyntheticOptions = { ...shared, interestsPerUser: 0, longTermStrength: 0 };
      const strong = generateSynthetic(strongOptions);
      const without = generateSynthetic(withoutOptions);
      const catalogue = generateSyntheticCatalogue(shared);

      it('shows only interest topics in the interest phase', () => {
        // 50 of 200 steps; with 8 or more session starts in them, all 8 interests appear.
        const phase = Math.ceil(0.25 * 200);
        let usersWithAllTopics = 0;
        for (let user = 0; user < strong.userCount; user++) {
          const topics = new Set<number>();
          for (let k = strong.offsets[user]; k < strong.offsets[user] + phase; k++) {
            topics.add(catalogue.topicOfItem[Number(strong.rawItemIds[strong.items[k]])]);
          }
          usersWithAllTopics += topics.size === 8 ? 1 : 0;
        }

        // Step 0 starts a session and each of the other 49 steps does with chance 0.5, so
        // fewer than 8 starts has chance P(binomial(49, 0.5) < 7) ≈ 3e-8 per user.
        expect(usersWithAllTopics).toBe(strong.userCount);
      });

      it('puts most test targets out of the window', () => {
        // The target returns to the interest visited longest ago. That topic is in the window
        // of w = ⌊199 · 0.125⌋ = 24 steps only if all 8 interests are. The sessions that
        // overlap the window are the one running at its start and N new ones. Each step
        // starts a session with p = 1 − 0.5, and every session is a return
        // (longTermStrength 1), so N is binomial(24, p). Each return picks one of the 8 topics
        // uniformly, so m returns cover all 8 with chance
        // cover(m) = Σ_j (−1)^j C(8, j) (1 − j/8)^m, and P(in window) = E[cover(N + 1)].
        const p = 0.5;
        const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n, k - 1) * (n - k + 1)) / k);
        const cover = (m: number): number => Array.from({ length: 9 }, (_, j) => (-1) ** j * choose(8, j) * (1 - j / 8) ** m).reduce((sum, term) => sum + term, 0);
        let inWindow = 0;
        for (let n = 0; n <= 24; n++) {
          inWindow += choose(24, n) * p ** n * (1 - p) ** (24 - n) * cover(n + 1);
        }
        const bound = 1 - inWindow;
        const noise = 3 * Math.sqrt((bound * (1 - bound)) / strong.userCount);

        const shares = outOfWindowShares(strong, catalogue);

        expect(shares.topic).toBeGreaterThanOrEqual(bound - noise);
        // 'popular' starts only on items the user has not consumed.
        expect(shares.inHistory).toBe(0);
      });

      it('puts few test targets out of the window without interests', () => {
        // Such a target must start a session (chance 1 − 0.5) at one of the two items after the
        // topic's last item. The start is drawn by popularity inside the topic, so its chance is
        // at most the largest share of a topic's weight held by two of its items.
        const twoItemShares = catalogue.topicItems.map((items) => {
          const weights = Array.from(items, (item) => catalogue.popularity[item]).sort((a, b) => b - a);
          return (weights[0] + weights[1]) / weights.reduce((sum, weight) => sum + weight, 0);
        });
        const bound = 0.5 * Math.max(...twoItemShares);
        const noise = 3 * Math.sqrt((bound * (1 - bound)) / without.userCount);
        const share = outOfWindowShares(without, catalogue).successor;

        expect(share).toBeLessThanOrEqual(bound + noise);
        expect(share).toBeLessThan(outOfWindowShares(strong, catalogue).topic / 2);
      });

      it('records the new settings', () => {
        expect(strong.source.params).toMatchObject({ interestPhase: 0.25, finalReturns: 1, interestsPerUser: 8, returnStart: 'popular' });
        expect(defaults.source.params).toMatchObject({ interestPhase: 0, finalReturns: 0, returnStart: 'resume' });
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
