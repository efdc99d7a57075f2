/**
 * A microphone level 0-100 from one analyser window of time-domain samples (-1..1): the RMS in
 * dBFS mapped from -60 dB (0) to 0 dB (100), so speech at a normal distance fills about half
 * the bar and silence shows nothing.
 */
export function micLevel(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / samples.length);
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.round(Math.min(100, Math.max(0, ((db + 60) / 60) * 100)));
}
